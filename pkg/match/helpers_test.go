package match_test

import (
	"io/fs"
	"os"
	"path/filepath"
)

func writeCatalog(dir, sigs string) error {
	if err := os.MkdirAll(filepath.Join(dir, "signatures"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "signatures", "test.yaml"), []byte(sigs), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte("rules: []\n"), 0o644)
}

func osDirFS(dir string) fs.FS { return os.DirFS(dir) }
