// Package sigtail holds the default catalog, embedded in the binary: the
// signatures under signatures/ and the rules in rules.yaml. It lives at the
// module root because go:embed cannot reach above a package's folder.
package sigtail

import "embed"

// Catalog is the default catalog, laid out as catalog.Load expects.
//
//go:embed signatures/*.yaml rules.yaml
var Catalog embed.FS
