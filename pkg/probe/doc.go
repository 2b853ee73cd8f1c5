// Package probe reads the process table and the cgroup files of a host and
// tells what its Gunicorn masters really are: their workers, the settings
// they run with and where each came from, and what the workers measure
// (memory, CPU, idle or working), next to the host's CPUs, memory and the
// master's cgroup limits. Audit turns a Snapshot into findings for people,
// each tied to an insight of the knowledge page.
//
// What it hides:
//
//   - Where a process table lives. Every read goes through an fs.FS rooted
//     at the host's "/" (proc/..., sys/...), so tests point it at a fake
//     tree under testdata/ and the daemon at the real root.
//   - Which Gunicorn it is looking at: `gunicorn ...`, `python -m gunicorn
//     ...`, `/venv/bin/python /venv/bin/gunicorn ...`, and masters and
//     workers renamed by setproctitle (`gunicorn: master [app]`) are all
//     found, and a master is told from its workers by structure (a master
//     is the parent of its workers; a master re-executed by USR2 is a child
//     of the old one carrying GUNICORN_FD).
//   - Gunicorn's precedence: command line over GUNICORN_CMD_ARGS over the
//     config file over the defaults (gunicorn/app/base.py load_config).
//     A value that cannot be known (computed in the config file, hidden by
//     setproctitle) is reported as unknown with why, never guessed.
//   - Privilege: another user's environ, cwd, fd and smaps_rollup need the
//     same uid or CAP_SYS_PTRACE. What could not be read is listed in
//     Snapshot.Unreadable with what it leaves unknown; nothing fails.
//
// Why not github.com/prometheus/procfs (already a dependency): its Proc
// methods open paths under a directory themselves, so they cannot read
// through an fs.FS, and tests need one: they run as root, where a file's
// mode does not stop a read, so an "unreadable environ" can only be staged
// by an FS that refuses it. procfs also has nothing for cgroup cpu.max,
// memory.max or cpuset files. The files needed here are few and their
// parsers small and pure (proc.go), tested on literals.
//
// Sample keeps the CPU times of the previous sample, so a worker's CPU use
// over the interval tells working from idle, as the Datadog Agent's
// gunicorn check does.
package probe
