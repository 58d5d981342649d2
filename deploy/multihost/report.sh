# The multi-host test's report, sourced by deploy/multihost/run at the end: compares the two
# loads' frame hashes, asks Prometheus's HTTP API for the series of the run, checks the acceptance
# conditions, and prints one JSON object.

# promql QUERY [TIME]: the instant query's series (at TIME, epoch seconds; default now) as
# [{label: value, ..., value: number}]
promql() {
  ip netns exec fb-client curl -sfG --max-time 5 --data-urlencode "query=$1" --data-urlencode "time=${2:-$(date +%s.%N)}" \
    "http://${FB_ADDR[prom]}:9090/api/v1/query" \
    | jq -c '[.data.result[] | (.metric | del(.__name__)) + {value: (.value[1] | tonumber)}]' \
    || echo '"query failed"'
}

prometheus_series() {
  # counters over the whole run, every process's (departed ones included), read now; the pools'
  # gauges over the load under faults (T_LOAD..T_END), read at T_END
  local all=$(( ($(now_ms) - T_START) / 1000 + 1 )) w=$(( (T_END - T_LOAD) / 1000 + 1 ))
  local at
  at="$(awk -v t="$T_END" 'BEGIN { printf "%.3f", t / 1000 }')"
  local -a q=(
    pending_by_pool_now "sum by (job) (flowblend_inference_pending_requests)" ""
    pending_by_pool_peak "max_over_time((sum by (job) (flowblend_inference_pending_requests))[${w}s:1s])" "$at"
    pending_by_host_peak "max by (job, host) (max_over_time(flowblend_inference_pending_requests[${w}s]))" "$at"
    inference_requests "sum by (job, worker, outcome) (max_over_time(flowblend_inference_requests_total[${all}s]))" ""
    mean_batch_samples "sum by (job) (increase(flowblend_inference_batch_size_sum[${w}s])) / sum by (job) (increase(flowblend_inference_batch_size_count[${w}s]))" "$at"
    peak_batch_samples "max by (job) (max_over_time(flowblend_inference_batch_size_max[${w}s]))" "$at"
    steps_by_pool "sum by (pool) (flowblend_step_duration_seconds_count)" ""
    generations "sum by (outcome) (flowblend_generations_total)" ""
    step_retries "sum by (pool, reason) (flowblend_step_retries_total)" ""
    step_failovers "sum by (pool) (flowblend_step_failovers_total)" ""
    pool_endpoints_now "sum by (pool) (flowblend_pool_endpoints)" ""
    pool_endpoints_min "sum by (pool) (min_over_time(flowblend_pool_endpoints[${w}s]))" "$at"
    pool_endpoints_max "sum by (pool) (max_over_time(flowblend_pool_endpoints[${w}s]))" "$at"
    pool_healthy_endpoints_min "sum by (pool) (min_over_time(flowblend_pool_healthy_endpoints[${w}s]))" "$at"
    up_now "sum by (job, host) (up)" ""
    up_min "sum by (job, host) (min_over_time(up[${w}s]))" "$at"
  )
  local out="{}" i
  for ((i = 0; i < ${#q[@]}; i += 3)); do
    out="$(jq -c --arg k "${q[i]}" --arg query "${q[i+1]}" --arg at "${q[i+2]}" \
      --argjson s "$(promql "${q[i+1]}" "${q[i+2]}")" \
      '. + {($k): ({query: $query, series: $s} + (if $at == "" then {} else {at: ($at | tonumber)} end))}' <<<"$out")"
  done
  echo "$out"
}

# retried HOST REASON: steps the orchestrator retried elsewhere after HOST failed them (its log)
retried() { grep -c "event=step_retry .* worker=${FB_ADDR[$1]}:[0-9]* reason=$2 " "$RUN/logs/orch.log" || true; }
# hedged HOST: steps the orchestrator sent to another worker because HOST had not answered within the pool's budget
hedged() { grep -c "event=step_hedged .* slow=${FB_ADDR[$1]}:[0-9]* " "$RUN/logs/orch.log" || true; }

report() {
  local ghost_logged retries
  ghost_logged=$(grep -c 'event=pool_dns_unresolved pool=ghost' "$RUN/logs/orch.log" || true)
  retries="$(jq -cn --argjson k "$(retried small-0 unavailable)" --argjson l "$(( $(retried large-1 deadline_exceeded) + $(hedged large-1) ))" \
    --argjson d "$(retried small-1 unavailable)" '{kill_9: $k, link_down: $l, scale_down: $d, scale_up: 0}')"
  jq -cn \
    --argjson ref "$(tail -n 1 "$RUN/reference.out")" \
    --argjson run "$(tail -n 1 "$RUN/faults.out")" \
    --argjson faults "$FAULTS" \
    --argjson prom "$(prometheus_series)" \
    --argjson t0 "$T_START" --argjson tload "$T_LOAD" --argjson tend "$T_END" --argjson tnow "$(now_ms)" \
    --argjson ghost_logged "$ghost_logged" --argjson retries "$retries" --arg run_dir "$RUN" \
    --argjson warmup 8 --argjson count "$COUNT" '
    def series($k): $prom[$k].series;
    def pool_value($k; $key; $v): [series($k)[] | select(.[$key] == $v) | .value] | first;
    ([range(0; $run.records | length) as $i | $run.records[$i] as $r | $ref.records[$i] as $f
      | select($r.status == "OK" and $f.status == "OK" and $r.frames_sha256 == $f.frames_sha256)] | length) as $identical
    | ($faults | map(.at_ms as $t | . + {t_s: (($t - $tload) / 1000), steps_retried_elsewhere: $retries[.fault],
        generations_in_flight: ([$run.records[] | select(.start_epoch_ms <= $t and .end_epoch_ms >= $t)] | length)})) as $faults2
    | {
        generations: $run.generations, accepted: $run.accepted, completed: $run.completed,
        identical: $identical, by_status: $run.by_status,
        p50_ms: $run.p50_ms, p95_ms: $run.p95_ms, max_ms: $run.max_ms, concurrency: $run.concurrency,
        reference: {concurrency: $ref.concurrency, completed: $ref.completed, p50_ms: $ref.p50_ms, p95_ms: $ref.p95_ms,
                    run_s: $ref.run_s, steps_by_host: $ref.steps_by_worker},
        faults: $faults2,
        steps_by_host: $run.steps_by_worker,
        unresolvable_pool: {pool: "ghost", dns: "ghost.flowblend.test:8301", warnings_logged: $ghost_logged,
                            endpoints: pool_value("pool_endpoints_now"; "pool"; "ghost"),
                            healthy_endpoints_min: pool_value("pool_healthy_endpoints_min"; "pool"; "ghost")},
        prometheus: $prom,
        seconds: {boot_and_warmup: (($tload - $t0) / 1000), under_faults: $run.run_s, reference: $ref.run_s,
                  network_up_to_report: (($tnow - $t0) / 1000)},
        run_dir: $run_dir
      }
    | . as $r
    | {
        all_completed: ($r.completed == $r.generations and $r.accepted == $r.generations),
        all_identical: ($r.identical == $r.completed),
        reference_completed: ($ref.completed == $count),
        at_least_3_faults_during_load: ([$r.faults[] | select(.during_load and .generations_in_flight > 0)] | length >= 3),
        pending_series_both_pools: ([series("pending_by_pool_peak")[] | .job] | (index("large") != null and index("small") != null)),
        prometheus_counted_every_generation: (pool_value("generations"; "outcome"; "success") == ($warmup + 2 * $count)),
        added_hosts_served: (($r.steps_by_host["small-1"] // 0) > 0 and ($r.steps_by_host["small-0-r1"] // 0) > 0),
        link_down_steps_retried: ([$r.faults[] | select(.fault == "link_down") | .steps_retried_elsewhere] | first > 0),
        unresolvable_pool_reported: ($ghost_logged > 0 and $r.unresolvable_pool.endpoints == 0)
      } as $checks
    | $r + {checks: $checks, failed_checks: ($checks | to_entries | map(select(.value != true) | .key)),
            ok: ($checks | all(.[]; . == true))}'
}
