# The multi-host test's network, sourced by deploy/multihost/run.
#
# Every host is a network namespace fb-<host> with one veth (eth0) into a bridge that lives in its
# own namespace fb-net (no address there, no link to the root namespace: nothing leaves the
# private subnet 10.210.0.0/24, and no host address of this machine is reachable from the hosts).
# "Pulling a cable" is taking the bridge-side end of a host's veth down. Each host's
# /etc/netns/fb-<host>/resolv.conf points at dnsmasq on fb-dns (ip netns exec bind-mounts it over
# /etc/resolv.conf for the processes it starts).

FB_NET=fb-net
FB_BRIDGE=fbbr0
FB_DNS_ADDR=10.210.0.2
# host -> address; the pools' hosts listen on these, Prometheus scrapes them
declare -A FB_ADDR=(
  [dns]=10.210.0.2 [orch]=10.210.0.10 [client]=10.210.0.40 [prom]=10.210.0.30
  [large-0]=10.210.0.11 [large-1]=10.210.0.12 [small-0]=10.210.0.21 [small-1]=10.210.0.22
)
FB_HOSTS=(dns orch client prom large-0 large-1 small-0 small-1)

# Can this machine make network namespaces? (root or CAP_NET_ADMIN, and a kernel with veth/bridge)
net_possible() {
  local probe="fb-probe-$$" ok=0
  ip netns add "$probe" 2>/dev/null || return 1
  ip link add fbprobe0 type veth peer name fbprobe1 2>/dev/null || ok=1
  ip link del fbprobe0 2>/dev/null || true
  ip -n "$probe" link add fbprobebr type bridge 2>/dev/null || ok=1
  ip netns del "$probe" 2>/dev/null || true
  return $ok
}

# Removes everything a run (this one or an aborted earlier one) may have left: the processes in
# our namespaces (by pid, as `ip netns pids` lists them), the namespaces, stray veths, resolv.confs.
net_clean() {
  local ns pids link
  for ns in "${FB_HOSTS[@]/#/fb-}" "$FB_NET"; do
    if ip netns list | grep -qw "^$ns"; then
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      # shellcheck disable=SC2086  # a list of pids
      [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    fi
    rm -rf "/etc/netns/$ns"
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^fb[vp]-' || true); do
    ip link del "$link" 2>/dev/null || true
  done
}

net_up() {
  local h ns
  ip netns add "$FB_NET"
  ip -n "$FB_NET" link set lo up
  ip -n "$FB_NET" link add "$FB_BRIDGE" type bridge
  ip -n "$FB_NET" link set "$FB_BRIDGE" up
  for h in "${FB_HOSTS[@]}"; do
    ns="fb-$h"
    ip netns add "$ns"
    ip link add "fbv-$h" type veth peer name "fbp-$h"
    ip link set "fbv-$h" netns "$ns"
    ip link set "fbp-$h" netns "$FB_NET"
    ip -n "$ns" link set "fbv-$h" name eth0
    ip -n "$ns" addr add "${FB_ADDR[$h]}/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$FB_NET" link set "fbp-$h" master "$FB_BRIDGE" up
    mkdir -p "/etc/netns/$ns"
    printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$FB_DNS_ADDR" > "/etc/netns/$ns/resolv.conf"
  done
}

# link_down HOST / link_up HOST: the switch side of HOST's cable
link_down() { ip -n "$FB_NET" link set "fbp-$1" down; }
link_up() { ip -n "$FB_NET" link set "fbp-$1" up; }
