package parse

// parsers holds the default parser of each format. Every parser is
// stateless, so one value serves all callers.
var parsers = map[Format]Parser{
	FormatGunicorn:    gunicornParser{},
	FormatNginxError:  nginxErrorParser{},
	FormatNginxAccess: nginxAccessParser{},
	FormatKernel:      kernelParser{},
	FormatCaddy:       caddyParser{},
	FormatProbe:       probeParser{},
}

// For returns the default parser of f (the `combined` layout for
// nginx-access; see NewNginxAccess for others), or nil when f is not a known
// format.
func For(f Format) Parser {
	return parsers[f]
}
