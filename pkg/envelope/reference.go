package envelope

import "time"

// SetReference changes the latest time the lines can be from, for the
// lines added after it: a scan sets each file's modification time as it
// moves to the next file of a rotation, a follower the clock.
func (u *Unwrapper) SetReference(t time.Time) { u.ctx.Reference = t }
