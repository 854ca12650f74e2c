package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCreateNeverFollowsALink: a link, dangling or not, a FIFO or a directory where a file
// is written is refused, and the link's target is left as it was; a regular file is
// replaced.
func TestCreateNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(victim, link)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nothing"), dangling)
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o600)
	for path, want := range map[string]error{link: ErrLink, dangling: ErrLink, fifo: ErrNotRegular, dir: ErrNotRegular} {
		if err := WriteFile(path, []byte("x"), 0o644); !errors.Is(err, want) {
			t.Errorf("WriteFile(%s): %v, want %v", filepath.Base(path), err, want)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Errorf("the link's target was written: %q", data)
	}
	if info, _ := os.Stat(victim); info.Mode().Perm() != 0o600 {
		t.Errorf("the link's target has mode %04o", info.Mode().Perm())
	}
	if _, err := os.Lstat(filepath.Join(dir, "nothing")); err == nil {
		t.Error("the dangling link's target was created")
	}
	out := filepath.Join(dir, "out")
	for _, body := range []string{"first, longer", "second"} {
		if err := WriteFile(out, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(out); string(data) != body {
			t.Errorf("%s holds %q, want %q", out, data, body)
		}
	}
}
