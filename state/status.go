package state

// Infobip reports each message's status as a group and an id within it; the state records
// both (status_group, status_id) with a sent message. This file is the one statement of
// what they mean for the record: runner classifies the API's answers with it, and the SQL
// of the reports and of AwaitingDelivery is generated from it (DeliveryRules), so that no
// backend writes a rule of its own into its queries.

// Infobip's status groups.
const (
	GroupPending       = 1
	GroupUndeliverable = 2
	GroupDelivered     = 3
	GroupExpired       = 4
	GroupRejected      = 5
)

// StatusDuplicateMessageID is REJECTED_DUPLICATE_MESSAGE_ID, in GroupRejected: Infobip
// refused a request's message because its messageId was used before.
const StatusDuplicateMessageID = 23

// DuplicateMessageID reports whether a status is Infobip's refusal of a messageId used
// before: proof that an earlier send with that id went through. Apply and reconciliation
// record such a message as sent, and its delivery is then awaited like any other's.
func DuplicateMessageID(group, id int) bool {
	return group == GroupRejected && id == StatusDuplicateMessageID
}

// DeliveryClass is what the status recorded with a sent message says of its delivery.
type DeliveryClass uint8

// The delivery classes. A status of a group Infobip does not define is in none (0).
const (
	// Awaiting: no final status yet; refresh reads it from Infobip's logs.
	Awaiting DeliveryClass = iota + 1
	Delivered
	Undelivered
	Expired
	// Rejected: accepted, then rejected by the network.
	Rejected
)

// DeliveryRule says that a status of Group (with ID, or any id when ID is 0) is of Class.
// Group 0 is a message without a recorded status.
type DeliveryRule struct {
	Group, ID int
	Class     DeliveryClass
}

// DeliveryRules are how sent messages count in reports and refresh, the first rule that
// matches a status deciding. The SQL of the backends is generated from them (see
// Classify); no query states a status of its own.
var DeliveryRules = []DeliveryRule{
	// Proof of an earlier send, whose own delivery status the logs have yet to give.
	{Group: GroupRejected, ID: StatusDuplicateMessageID, Class: Awaiting},
	{Group: 0, Class: Awaiting},
	{Group: GroupPending, Class: Awaiting},
	{Group: GroupDelivered, Class: Delivered},
	{Group: GroupUndeliverable, Class: Undelivered},
	{Group: GroupExpired, Class: Expired},
	{Group: GroupRejected, Class: Rejected},
}

// Classify is the delivery class of a sent message's recorded status (group 0: none).
func Classify(group, id int) DeliveryClass {
	for _, r := range DeliveryRules {
		if r.Group == group && (r.ID == 0 || r.ID == id) {
			return r.Class
		}
	}
	return 0
}
