// Package safefile opens the files smsform writes (a state's lock, a saved plan, an HTML
// report) without following a symbolic link at their path. Such a path is often in a
// repository's checkout, where a pull request can plant a link to any file the CI user may
// write: opened blindly, the link's target would be truncated, overwritten or chmodded.
package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrLink means the path is a symbolic link, which smsform does not write through.
var ErrLink = errors.New("is a symbolic link")

// ErrNotRegular means the path is a directory, a FIFO, a device or a socket.
var ErrNotRegular = errors.New("is not a regular file")

// Check refuses a path that is a symbolic link or exists as something else than a regular
// file. A missing path is fine.
func Check(path string) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s %w: smsform does not write through a link (it would write the file it points to); remove the link, or give the real path", path, ErrLink)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s %w (%s)", path, ErrNotRegular, kind(info.Mode()))
	}
	return nil
}

// Open is os.OpenFile for a file smsform writes: it refuses a symbolic link (also one that
// appears after the check: O_NOFOLLOW) and anything but a regular file, and never blocks on a
// FIFO.
func Open(path string, flag int, perm os.FileMode) (*os.File, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|noFollow|syscall.O_NONBLOCK, perm)
	if err != nil {
		if isLoop(err) {
			return nil, fmt.Errorf("%s %w: smsform does not write through a link (it would write the file it points to); remove the link, or give the real path", path, ErrLink)
		}
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s %w (%s)", path, ErrNotRegular, kind(info.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Create creates or truncates a file for writing, as os.Create does, but never through a
// symbolic link.
func Create(path string, perm os.FileMode) (*os.File, error) {
	return Open(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
}

// WriteFile is os.WriteFile, but never through a symbolic link.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}
