package campaign

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Input bounds. A campaign file may come from a pull request nobody reviewed yet, and
// `plan` runs on it in CI: no input may make loading take unbounded memory or time.
const (
	// MaxYAMLBytes bounds a campaign file. yaml.v3 decodes a file whole, and a 4 MB list
	// of inline recipients takes 9 s and 180 MB (measured); a 1 MB file holds ~40,000 of
	// them. Big recipient lists belong in a CSV, which is streamed.
	MaxYAMLBytes = 1 << 20
	// MaxCSVBytes bounds a destinations_file (a million recipients are about 40 MB).
	MaxCSVBytes = 1 << 30
	// MaxCSVLine bounds one record of a CSV, header included: one line, or several when a
	// quoted field holds line breaks. A field is bounded by its record. encoding/csv holds a
	// record whole; ten records of 107 MB, each a quoted field over 107,000 short lines,
	// took 1.2 GB to read (measured) under a bound on lines.
	MaxCSVLine = 64 << 10
	// MaxCSVColumns bounds the header's width.
	MaxCSVColumns = 256
	// MaxMapKeys bounds the keys of a vars or labels mapping, as many as a CSV may have
	// columns. yaml.v3 checks a mapping's keys for repeats pair by pair when it decodes
	// it: 100,000 labels in a 1 MB file took 20 s.
	MaxMapKeys = MaxCSVColumns
	// MaxIgnoreBytes bounds the patterns that apply in one directory: those of its own
	// .smsformignore and of every directory above it, lengths summed. Every entry of the
	// directory is matched against each of them, and a glob match costs up to the pattern's
	// length for each character of a name: 15 nested files of 13,000 patterns made 450
	// long names take 3 minutes. A kilobyte is a few dozen patterns, and at most a
	// millisecond per entry.
	MaxIgnoreBytes = 1 << 10
)

// roots finds the campaign root of each file: the git work tree holding it, or, outside
// git, the directory given on the command line. Paths in campaign files must stay inside it.
type roots struct {
	git map[string]string // directory -> its work tree's top, or "" outside git
}

// of returns the root for file, found under arg (a command-line path), resolved through
// symlinks.
func (r *roots) of(file, arg string) string {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err == nil {
		if top := r.gitTop(dir); top != "" {
			return top
		}
	}
	if info, err := os.Stat(arg); err == nil && !info.IsDir() {
		arg = filepath.Dir(arg)
	}
	return realPath(arg)
}

// gitTop walks up from dir to the directory holding .git (a directory, or a file in a
// worktree or submodule).
func (r *roots) gitTop(dir string) string {
	if top, ok := r.git[dir]; ok {
		return top
	}
	top := ""
	if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
		top = realPath(dir)
	} else if parent := filepath.Dir(dir); parent != dir {
		top = r.gitTop(parent)
	}
	r.git[dir] = top
	return top
}

// realPath is p made absolute with every symlink resolved, or p made absolute if that fails.
func realPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}

// errOutside, errSystem and errNotRegular are why a path is refused. Their wording never
// includes anything read from the target.
var (
	errOutside    = errors.New("resolves (after symlinks) outside the campaign root")
	errSystem     = errors.New("resolves (after symlinks) into /proc, /sys or /dev, which hold the system's state, not input")
	errNotRegular = errors.New("is not a regular file (a directory, device, FIFO or socket)")
)

// systemDirs hold the kernel's view of processes and devices. Their files pass for regular
// ones (/proc/self/environ, the environment with its API keys, has size 0): whatever the
// root, nothing is read under them.
var systemDirs = []string{"/proc", "/sys", "/dev"}

// tooBig says a file is over its size bound.
type tooBig struct{ size, limit int64 }

func (e *tooBig) Error() string {
	return fmt.Sprintf("is %d bytes; the limit is %d", e.size, e.limit)
}

// openConfined opens path for reading if, after symlinks, it is a regular file inside root
// of at most limit bytes. It never blocks on a FIFO and never reads a device.
func openConfined(path, root string, limit int64) (*os.File, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		// A missing file outside the root is "outside" too: whether a path exists there is
		// nothing a campaign file may learn.
		if !inside(root, resolveExisting(path)) {
			return nil, errOutside
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err // "no such file or directory", without repeating the path
		}
		return nil, err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, err
	}
	if !inside(root, real) {
		return nil, errOutside
	}
	for _, dir := range systemDirs {
		if inside(dir, real) {
			return nil, errSystem
		}
	}
	// O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever.
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	info, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, err
	case !info.Mode().IsRegular():
		f.Close()
		return nil, errNotRegular
	case info.Size() > limit:
		f.Close()
		return nil, &tooBig{info.Size(), limit}
	}
	return f, nil
}

// inside reports whether path is root or below it; both are absolute and resolved.
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveExisting is path made absolute, with symlinks resolved in the longest part of it
// that exists.
func resolveExisting(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(real, rest)
		}
		if filepath.Dir(p) == p {
			return abs
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// readConfined reads a whole file checked by openConfined, stopping at limit bytes should
// it grow meanwhile.
func readConfined(path, root string, limit int64) ([]byte, error) {
	f, err := openConfined(path, root, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &tooBig{int64(len(data)), limit}
	}
	return data, nil
}

// OpenInput opens a file named on the command line (an events CSV, a prices file, a saved
// plan) under the rules of a file a campaign names: after symlinks it stays inside the
// directory given (the git work tree holding path or, outside git, path's own directory)
// and out of /proc, /sys and /dev; it is a regular file (a FIFO is refused, never waited
// on) of at most limit bytes. Such a file may come from a pull request as a campaign does,
// and convert runs with the API key in its environment: a committed symlink to
// /proc/self/environ must read nothing. The error says why without anything of the file.
func OpenInput(path string, limit int64) (*os.File, error) {
	root := (&roots{git: map[string]string{}}).of(path, path)
	f, err := openConfined(path, root, limit)
	if err != nil {
		return nil, &inputError{err: err, root: root}
	}
	return f, nil
}

// ReadInput reads a whole file checked as OpenInput checks it, stopping at limit bytes
// should it grow meanwhile.
func ReadInput(path string, limit int64) ([]byte, error) {
	root := (&roots{git: map[string]string{}}).of(path, path)
	data, err := readConfined(path, root, limit)
	if err != nil {
		return nil, &inputError{err: err, root: root}
	}
	return data, nil
}

// inputError is why OpenInput refused a file, in the terms of a command-line argument.
type inputError struct {
	err  error
	root string
}

func (e *inputError) Error() string {
	if errors.Is(e.err, errOutside) {
		return fmt.Sprintf("resolves (after symlinks) outside %s, the directory given (the git work tree holding it, or its own directory outside git); keep the files smsform reads there", e.root)
	}
	return e.err.Error()
}

func (e *inputError) Unwrap() error { return e.err }
