# Prints the headline figures of a bench/driver.mjs report (JSON on stdin).
import json, sys
r = json.load(sys.stdin)
for s in r["servers"]:
    sys = lambda k: f', {100 * s[k]:.0f}% sys' if k in s else ''
    print(f'{s["name"]:26} flows/s {s["flows_per_s"]:8.0f} (server {s["flow_server_cpu_us"]:7.1f} us/flow{sys("flow_server_sys_share")})  '
          f'exchanges/s {s["exchanges_per_s"]:8.0f} (server {s["exchange_server_cpu_us"]:7.1f} us/exchange{sys("exchange_server_sys_share")})  '
          f'RSS idle {s["idle_rss_mib"]:.1f} MiB, after {s["after_rss_mib"]:.1f} MiB  '
          f'failed ops {s["failed_operations"]}')
for k, v in r["me"].items():
    sys = f', {100 * v["server_sys_share"]:.0f}% sys' if "server_sys_share" in v else ''
    print(f'/me {k:8} {v["rps"]:8.0f} req/s  p50 {v["p50_ms"]:.2f} ms  p99 {v["p99_ms"]:.2f} ms  server {v["server_cpu_us"]:.1f} us/req{sys}')
for k, v in r["ratios"].items():
    print(f'{k:28} throughput {v["throughput"]:6.2f}x   capacity {v["capacity"]:6.2f}x')
