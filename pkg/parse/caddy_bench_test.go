package parse

import "testing"

// Caddy lines decode JSON and so cost more than the byte-level parsers;
// what must stay near zero is the cost of rejecting another format's line
// ("reject").
func BenchmarkParseCaddy(b *testing.B) {
	p := For(FormatCaddy)
	for name, rec := range map[string]string{
		"error":   `{"level":"error","ts":1795514400.9056916,"logger":"http.log.error","msg":"dial tcp 127.0.0.1:8000: connect: connection refused","request":{"remote_ip":"203.0.113.7","remote_port":"62798","client_ip":"203.0.113.7","proto":"HTTP/1.1","method":"GET","host":"shop.example.com","uri":"/api/items?page=2","headers":{"User-Agent":["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"],"Accept":["*/*"],"Accept-Encoding":["gzip, deflate, br"]}},"duration":0.000754,"status":502,"err_id":"gejvyp3cs","err_trace":"reverseproxy.statusError (reverseproxy.go:1272)"}`,
		"access":  `{"level":"info","ts":1795514400.4620728,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"203.0.113.7","remote_port":"57610","client_ip":"203.0.113.7","proto":"HTTP/2.0","method":"GET","host":"shop.example.com","uri":"/","headers":{"User-Agent":["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"],"Accept":["*/*"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"shop.example.com"}},"bytes_read":0,"user_id":"","duration":0.009587248,"size":5120,"status":200,"resp_headers":{"Server":["Caddy","gunicorn"],"Content-Type":["text/html; charset=utf-8"]}}`,
		"console": "2026/11/24 10:00:00.123\tERROR\thttp.log.error\tdial tcp 127.0.0.1:8000: connect: connection refused\t{\"request\": {\"remote_ip\": \"203.0.113.7\", \"method\": \"GET\", \"host\": \"shop.example.com\", \"uri\": \"/\"}, \"duration\": 0.000612, \"status\": 502}",
	} {
		b.Run(name, func(b *testing.B) { benchParse(b, p, rec) })
	}
	b.Run("reject", func(b *testing.B) {
		rec := `2026/11/24 10:00:00 [error] 1234#1234: *456 upstream prematurely closed connection while reading response header from upstream, client: 203.0.113.7`
		var ev Event
		b.ReportAllocs()
		for b.Loop() {
			p.Parse(rec, testCtx, &ev)
		}
	})
}
