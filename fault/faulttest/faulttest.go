// Package faulttest finds every [fault.Code] constant of the module, so
// that each shell's test can fail when its catalog lacks one.
package faulttest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/fault"
)

// Codes returns every constant declared with the type fault.Code in the
// module's non-test Go files, keyed by its value, with where it is
// declared ("batch.CodeFileMissing"). It reads the source rather than a
// list kept by hand, so a new code cannot be forgotten.
func Codes(t testing.TB) map[fault.Code]string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := map[fault.Code]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if !isFaultCode(vs.Type) {
					continue
				}
				for i, id := range vs.Names {
					if i >= len(vs.Values) {
						t.Errorf("%s: %s has no value of its own", fset.Position(id.Pos()), id.Name)
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: %s is not a string literal", fset.Position(id.Pos()), id.Name)
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					where := f.Name.Name + "." + id.Name
					if prev, dup := out[fault.Code(v)]; dup {
						t.Errorf("code %q is both %s and %s", v, prev, where)
					}
					out[fault.Code(v)] = where
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no fault.Code constants found")
	}
	return out
}

func isFaultCode(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "fault" && sel.Sel.Name == "Code"
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
