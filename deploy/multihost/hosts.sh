# The multi-host test's processes and DNS records, sourced by deploy/multihost/run after net.sh.
# Needs RUN (the run directory), ROOT (the repository) and CLUSTER (the cluster config).

declare -A PIDS=()   # process name -> pid (the JVM itself: ip netns exec and ./flowblend both exec)
DNS_HOSTS=""         # dnsmasq's hosts file: one "address name" line per ready host of a pool

log() { printf 'multihost %s %s\n' "$(date +%T)" "$*"; }
now_ms() { date +%s%3N; }

# start NAME HOST CMD...: runs CMD in host HOST's namespace, output to $RUN/logs/NAME.log
start() {
  local name="$1" host="$2"
  shift 2
  ip netns exec "fb-$host" "$@" >"$RUN/logs/$name.log" 2>&1 &
  PIDS[$name]=$!
}

# start_worker HOST [INSTANCE]: the pool's entry of the cluster config, on HOST's address
start_worker() {
  local host="$1" instance="${2:-$1}"
  start "$instance" "$host" "$ROOT/flowblend" worker --cluster "$CLUSTER" --name "${host%-*}" \
    --instance "$instance" --host "${FB_ADDR[$host]}"
}

# flowblend CLI in the client namespace (probes, load): the client's traffic crosses the bridge
client() { ip netns exec fb-client "$ROOT/flowblend" "$@"; }

# await_serving HOST PORT SERVICE SECONDS: bounded wait for a gRPC health service to say SERVING
await_serving() {
  client probe --target "${FB_ADDR[$1]}:$2" --service "$3" --wait "$4" >>"$RUN/logs/probes.log" 2>&1 || {
    log "host $1 did not become SERVING ($3) within $4 s"; return 1; }
}

start_dns() {
  DNS_HOSTS="$RUN/dns/hosts"
  : >"$DNS_HOSTS"
  # --local: authoritative for flowblend.test (unknown names: NXDOMAIN at once); no upstream at all
  start dnsmasq dns dnsmasq --conf-file=/dev/null --keep-in-foreground --user=root --no-resolv --no-hosts \
    --no-poll --addn-hosts="$DNS_HOSTS" --local=/flowblend.test/ --local-ttl=1 \
    --listen-address="$FB_DNS_ADDR" --bind-interfaces --log-queries --log-facility="$RUN/logs/dnsmasq-queries.log"
}

# dns_add HOST / dns_remove HOST: HOST's A record under its pool's headless-Service name
# (large-1 -> large.flowblend.test); SIGHUP makes dnsmasq re-read the file and drop its cache.
dns_add() {
  printf '%s %s.flowblend.test\n' "${FB_ADDR[$1]}" "${1%-*}" >>"$DNS_HOSTS"
  kill -HUP "${PIDS[dnsmasq]}"
}
dns_remove() {
  grep -v "^${FB_ADDR[$1]} " "$DNS_HOSTS" >"$DNS_HOSTS.new" || true
  mv "$DNS_HOSTS.new" "$DNS_HOSTS"
  kill -HUP "${PIDS[dnsmasq]}"
}

start_prometheus() {
  start prometheus prom prometheus --config.file="$HERE/prometheus.yml" --storage.tsdb.path="$RUN/prometheus-data" \
    --storage.tsdb.retention.time=1h --web.listen-address="${FB_ADDR[prom]}:9090" --log.level=warn
}

# metric ADDR:PORT PATTERN: the value of the first series of a /metrics page that starts with PATTERN
metric() {
  local page
  page="$(ip netns exec fb-client curl -sf --max-time 2 "http://$1/metrics" 2>/dev/null)" || true
  awk -v p="$2" 'index($0, p) == 1 && !found { print $NF; found = 1 }' <<<"$page"
}

# await_metric ADDR:PORT PATTERN VALUE SECONDS: bounded wait until the series has VALUE (e.g. the
# orchestrator sees 2 healthy small workers)
await_metric() {
  local i v
  for i in $(seq 1 $(( $4 * 4 ))); do
    v="$(metric "$1" "$2")"
    [ -n "$v" ] && awk -v a="$v" -v b="$3" 'BEGIN { exit !(a + 0 == b + 0) }' && return 0
    sleep 0.25
  done
  log "$2 at $1 is '$v', not $3, after $4 s"
  return 1
}

# stop NAME [SECONDS]: SIGTERM (the process drains), SIGKILL if it is still there after SECONDS
stop() {
  local pid="${PIDS[$1]:-}" i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $(( ${2:-15} * 10 ))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$1]"
}

stop_all() {
  local name
  # the orchestrator first (it drains its generations), then the rest
  stop orch 10
  for name in "${!PIDS[@]}"; do
    kill -TERM "${PIDS[$name]}" 2>/dev/null || true
  done
  for name in "${!PIDS[@]}"; do
    stop "$name" 10
  done
}

# FAULTS: one JSON object per fault, in order
FAULTS="[]"
fault() { FAULTS="$(jq -c --argjson f "$1" '. + [$f]' <<<"$FAULTS")"; log "fault: $1"; }
