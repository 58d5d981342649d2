"""Runs a build stage against this directory's data: python3 run.py <stage> [args...].

Modules here (data, and the stages this family changes) shadow those of ../train; every other
module (common, nets, sampling, metrics, ...) is ../train's, unchanged.
"""
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "train")]
stage = sys.argv[1]
sys.argv = [stage + ".py"] + sys.argv[2:]
runpy.run_module(stage, run_name="__main__", alter_sys=True)
