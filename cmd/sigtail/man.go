package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes the man pages, generated from the same command tree as
// the help, so the two cannot disagree (`make man`, shipped in
// contrib/man/).
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "write the man pages (sigtail.1, sigtail-scan.1, ...) into DIR",
		Hidden: true,
		Args:   argsBetween(1, 1, "the directory to write the man pages into"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages into %s: %s", dir, describeErr(err))
			}
			// The date is the build's, so the pages do not change with the
			// day they are generated.
			date := buildTime()
			hdr := &doc.GenManHeader{Title: "SIGTAIL", Section: "1", Source: "sigtail " + buildVersion(), Manual: "sigtail manual", Date: &date}
			if err := doc.GenManTree(cmd.Root(), hdr, dir); err != nil {
				return fmt.Errorf("man pages into %s: %w", dir, err)
			}
			return nil
		},
	}
}

// buildTime is the time of the commit the binary was built from, or the
// SOURCE_DATE_EPOCH convention's, else a fixed date.
func buildTime() time.Time {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		var s int64
		if _, err := fmt.Sscan(v, &s); err == nil {
			return time.Unix(s, 0).UTC()
		}
	}
	if t, ok := vcsTime(); ok {
		return t
	}
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
}
