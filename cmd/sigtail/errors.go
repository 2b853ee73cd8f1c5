package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/sigtail/sigtail/pkg/source"
)

// describeErr is an I/O error as one line for people: what went wrong,
// without the path the caller already names, and what to do about it; in
// the words the daemon's health uses, but for a file given to read now,
// where one that does not exist is not awaited.
func describeErr(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file (check the path; a rotated log may be named error.log.1 or error.log.2.gz)"
	}
	return source.Reason(err)
}

// describeWriteErr is describeErr for a file being written.
func describeWriteErr(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "its directory does not exist (create it, or give another path)"
	}
	return source.Reason(err)
}

// catalogFailure turns a catalog's list of problems into lines on stderr,
// one per problem as file:line:col: id: message, and an error that says
// what was not done; other errors pass through.
func catalogFailure(env *env, err error, notDone string) error {
	if catalogError(env.stderr, err) {
		return fmt.Errorf("the catalog has errors; %s", notDone)
	}
	return err
}
