package scan

// NoSeek makes a scan apply its time window by filtering alone, reading
// every file from its start: what the window's shortcuts must agree with.
func NoSeek(c *Config) { c.noSeek = true }
