package source

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Journal follows the systemd journal through `journalctl -f -o json`: the
// kernel's messages (Match: "-k", where /dev/kmsg cannot be read) or a
// unit's (Match: "-u", "gunicorn.service"). Each entry's cursor is its
// position, so a restart resumes after the last entry read.
type Journal struct {
	// Match selects the entries: journalctl arguments such as "-k" or
	// "-u", "gunicorn.service".
	Match []string
	// Start resumes after Start.Cursor; without one, only new entries are
	// read, unless FromStart.
	Start     Position
	FromStart bool
	// Command runs journalctl (default "journalctl"); Directory, when set,
	// reads the journal files there (--directory) instead of the system's.
	Command   string
	Directory string
	// Raw sends each entry as its JSON line (for the kernel parser, which
	// reads journal JSON); otherwise the entry's MESSAGE text is sent.
	Raw bool

	openNote string // the "open" event's note (default "following")
}

// Run follows the journal until ctx is done. It returns nil on
// cancellation and an error when journalctl cannot run or stops, after an
// "unreadable" event that says why.
func (j *Journal) Run(ctx context.Context, out chan<- Line, events chan<- Event) error {
	err := j.run(ctx, out, events)
	if err != nil {
		why := "journalctl " + strings.Join(j.Match, " ") + ": " + Reason(err)
		var stopped *journalStopped
		if errors.As(err, &stopped) {
			why = stopped.Error()
		}
		unreadable(ctx, events, "journal "+strings.Join(j.Match, " "), why)
	}
	return err
}

// journalStopped is journalctl's exit while it should follow.
type journalStopped struct {
	match  []string
	err    error
	stderr string
}

func (e *journalStopped) Error() string {
	s := "journalctl " + strings.Join(e.match, " ") + " stopped: " + e.err.Error()
	if e.stderr != "" {
		s += ": " + e.stderr
	}
	return s
}

func (e *journalStopped) Unwrap() error { return e.err }

func (j *Journal) run(ctx context.Context, out chan<- Line, events chan<- Event) error {
	bin := j.Command
	if bin == "" {
		bin = "journalctl"
	}
	args := []string{"--follow", "--output=json", "--no-pager"}
	switch {
	case j.Start.Cursor != "":
		args = append(args, "--after-cursor="+j.Start.Cursor)
	case j.FromStart:
		args = append(args, "--lines=all")
	default:
		args = append(args, "--lines=0")
	}
	if j.Directory != "" {
		args = append(args, "--directory="+j.Directory)
	}
	args = append(args, j.Match...)
	if err := CheckCommand(bin); err != nil {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s %s: %w", bin, strings.Join(args, " "), err)
	}
	if events != nil {
		select {
		case events <- Event{Kind: "open", Path: "journal " + strings.Join(j.Match, " "), Note: cmp.Or(j.openNote, "following")}:
		case <-ctx.Done():
		}
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var n int64
	for sc.Scan() {
		n++
		var entry struct {
			Cursor  string          `json:"__CURSOR"`
			Message json.RawMessage `json:"MESSAGE"`
		}
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil || entry.Cursor == "" {
			continue // not an entry
		}
		text := sc.Text()
		if !j.Raw {
			text = journalMessage(entry.Message)
		}
		// One entry may hold several lines (a traceback in MESSAGE).
		for i, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			line := Line{Text: l, Offset: n, File: Position{Cursor: entry.Cursor}}
			if i > 0 {
				line.Offset = 0
			}
			select {
			case out <- line:
			case <-ctx.Done():
				cmd.Wait()
				return nil
			}
		}
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = errors.New("exited")
	}
	return &journalStopped{match: j.Match, err: err, stderr: strings.TrimSpace(stderr.String())}
}

// journalMessage decodes MESSAGE: a string, or an array of byte values
// when it is not valid UTF-8; null when journalctl left out a long field.
func journalMessage(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b []byte
	var nums []int
	if json.Unmarshal(raw, &nums) == nil {
		for _, v := range nums {
			b = append(b, byte(v))
		}
		return string(b)
	}
	return ""
}
