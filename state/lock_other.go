//go:build !unix

package state

import (
	"errors"
	"os"
)

func tryLock(*os.File) (bool, error) {
	return false, errors.New("state locking is only supported on unix systems")
}

func unlock(*os.File) error { return nil }
