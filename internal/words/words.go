// Package words holds the small helpers every layer uses to write sentences about counts.
package words

// Plural is one when n is 1, else many: Plural(n, "message", "messages").
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
