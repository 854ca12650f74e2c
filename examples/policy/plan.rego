# A merge gate on `smsform plan -json`, for conftest (https://www.conftest.dev): refuse a
# plan that sends more than max_messages messages unless the pull request carries the
# label large-send-approved. Labels can be set only by people with triage access or more,
# so the author of a pull request cannot approve their own large send.
#
#   smsform plan -json campaigns/ >plan.json
#   jq -n --argjson labels "$LABELS" '{pull_request: {labels: $labels}}' >pr.json
#   conftest test --policy examples/policy --data pr.json plan.json
#
# where LABELS is the pull request's label names as a JSON list (in GitHub Actions,
# ${{ toJSON(github.event.pull_request.labels.*.name) }}, passed through env). plan.jq
# beside it is the same check for jq alone; the tests run that one on a real plan.
package main

import rego.v1

max_messages := 10000

approval_label := "large-send-approved"

approved if approval_label in data.pull_request.labels

# format_version 1.x only adds fields: this policy reads any 1.x plan, and refuses others.
deny contains msg if {
	not regex.match(`^1(\.[0-9]+)?$`, input.format_version)
	msg := sprintf("plan format_version %v: this policy reads 1.x; check it against the new format", [input.format_version])
}

deny contains msg if {
	input.summary.send > max_messages
	not approved
	msg := sprintf("this plan sends %d messages, more than %d: a maintainer must add the pull-request label %s", [input.summary.send, max_messages, approval_label])
}
