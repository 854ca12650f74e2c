# A merge gate on `smsform plan -json`, for jq alone: the check plan.rego makes, refusing a
# plan that sends more than $max messages unless the pull request carries the label
# large-send-approved. Exits 5 with the reason when it refuses:
#
#   smsform plan -json campaigns/ >plan.json
#   jq -e --argjson max 10000 --argjson labels "$LABELS" -f examples/policy/plan.jq plan.json
if (.format_version | test("^1(\\.[0-9]+)?$") | not) then
  error("plan format_version \(.format_version): this policy reads 1.x; check it against the new format")
elif .summary.send > $max and ($labels | index("large-send-approved") | not) then
  error("this plan sends \(.summary.send) messages, more than \($max): a maintainer must add the pull-request label large-send-approved")
else
  true
end
