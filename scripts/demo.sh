#!/usr/bin/env bash
# The two-minute tour: start the sandbox, then validate, plan and apply examples/ against it,
# and show that a second plan has nothing to send; conversions and the report; then an
# experiment followed to its end (examples/experiment): the test sent, conversions simulated
# by the sandbox, the variants compared with their intervals, the winner sent to the held.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin/smsform
work=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

"$bin" sandbox -listen 127.0.0.1:0 -delivery-delay 1s >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 50); do
  url=$(sed -n 's/^Sandbox Infobip API listening on \(http[^ ]*\).*/\1/p' "$work/sandbox.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { cat "$work/sandbox.log"; echo "the sandbox did not start" >&2; exit 1; }
echo "Sandbox Infobip API on $url (state file: $work/smsform.db)"

export INFOBIP_BASE_URL=$url INFOBIP_API_KEY=sandbox-demo-key SMSFORM_STATE=$work/smsform.db
step "$bin" init
step "$bin" validate examples
step "$bin" plan -prices examples/prices/prices.csv examples
step "$bin" apply -auto-approve examples
step "$bin" plan -detailed-exitcode examples
step "$bin" state list
echo
echo "The second plan had nothing to send: running apply again sends nothing."

# Conversions: the product exported who entered their PIN; smsform logs each once.
sleep 1 # the sandbox reports delivery after -delivery-delay
step "$bin" refresh
step "$bin" convert examples/otp/events.csv
step "$bin" convert examples/otp/events.csv
step "$bin" report
step "$bin" report -html "$work/report.html"
cp "$work/report.html" bin/report.html

# The experiment: apply sent its test (half of the recipients, a variant each) and held the
# rest. The sandbox plays the product: an event export in which each personal message
# converts with a chance of 30 %, each short one 12 % (seeded: the same every run).
step curl -fsS -o "$work/experiment-events.csv" "$url/sandbox/events?seed=7&variant=personal=0.30&variant=short=0.12"
step "$bin" convert "$work/experiment-events.csv"
step "$bin" report -by variant
# winner: auto waits 24h after the last test message (conversions keep coming in): no
# winner yet, the held stay held.
step "$bin" plan examples/experiment
# The same campaign with wait: 0m, as if the day had passed: auto decides, apply records the
# decision and sends the held recipients the winner.
mkdir "$work/experiment"
cp examples/experiment/recipients.csv "$work/experiment/"
sed 's/^  wait: 24h /  wait: 0m  /' examples/experiment/spring-sale.yaml >"$work/experiment/spring-sale.yaml"
step "$bin" plan "$work/experiment"
step "$bin" apply -auto-approve "$work/experiment"
step "$bin" report -by variant
step "$bin" report -by variant -html "$work/report-variant.html"
cp "$work/report-variant.html" bin/report-variant.html
echo
echo "Open bin/report.html for the conversion charts, bin/report-variant.html for the experiment."
