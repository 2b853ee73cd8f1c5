package parse

// fieldNames lists, per format, the Field keys its default parser may set.
// Catalog checks use it to tell a typo from a real field name. Some keys are
// not fixed and so are not listed: the access log's trailing values (extra1,
// extra2, ... and the names of key=value pairs such as rt or urt) and the
// KEY of a /dev/kmsg dictionary line (SUBSYSTEM, DEVICE, ...).
// TestFieldNames checks the lists against the golden outputs.
var fieldNames = map[Format][]string{
	FormatGunicorn: {"host", "tag"},
	FormatNginxError: {"tid", "connection", "client", "server", "request", "subrequest", "upstream", "host", "referrer",
		"bytes_from_client", "bytes_to_client", "bytes_from_upstream", "bytes_to_upstream", "errno", "action"},
	FormatNginxAccess: {"remote_addr", "remote_user", "time_local", "request", "method", "uri", "protocol", "status",
		"body_bytes_sent", "http_referer", "http_user_agent", "request_time", "upstream_response_time"},
	FormatKernel: {"priority", "facility", "seq", "caller", "host", "tag", "SUBSYSTEM", "DEVICE"},
	FormatCaddy:  {"logger", "status", "upstream", "error", "method", "uri", "host", "remote_ip", "duration"},
	FormatProbe:  {"check", "master", "severity", "live", "configured", "recommended", "parameter", "app", "bind"},
}

// FieldNames returns the Field keys the default parser of f may set, beside
// the members every Event has (message, level, raw).
func FieldNames(f Format) []string {
	return append([]string{"message", "level", "raw"}, fieldNames[f]...)
}
