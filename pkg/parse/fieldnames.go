package parse

// fieldNames lists, per format, the Field keys its default parser may set.
// Catalog checks use it to tell a typo from a real field name.
var fieldNames = map[Format][]string{
	FormatGunicorn:    {"host", "tag"},
	FormatNginxError:  {"tid", "connection", "errno", "action", "client", "server", "request", "subrequest", "upstream", "host", "referrer", "host"},
	FormatNginxAccess: {"remote_addr", "remote_user", "time_local", "request", "method", "uri", "protocol", "status", "body_bytes_sent", "http_referer", "http_user_agent", "http_x_forwarded_for", "request_time", "upstream_response_time"},
	FormatKernel:      {"priority", "facility", "seq", "host", "tag"},
}

// FieldNames returns the Field keys the default parser of f may set, beside
// the members every Event has (message, level, raw).
func FieldNames(f Format) []string {
	return append([]string{"message", "level", "raw"}, fieldNames[f]...)
}
