package pgtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotInstalled: without PostgreSQL the error is the command that installs it.
func TestNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := debianGlob
	defer func() { debianGlob = old }()
	debianGlob = filepath.Join(t.TempDir(), "*", "bin", "initdb")
	_, err := binDir()
	if err == nil || !strings.Contains(err.Error(), Install) || !strings.Contains(err.Error(), EnvVar) {
		t.Fatalf("binDir without PostgreSQL: %v; want the install command and %s", err, EnvVar)
	}
}

// TestNewestVersion: of several installed versions, the newest is used.
func TestNewestVersion(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	for _, v := range []string{"9", "15", "13"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "initdb"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := debianGlob
	defer func() { debianGlob = old }()
	debianGlob = filepath.Join(root, "*", "bin", "initdb")
	dir, err := binDir()
	if err != nil || dir != filepath.Join(root, "15", "bin") {
		t.Errorf("binDir = %s, %v; want version 15's", dir, err)
	}
}
