// Package policy_test checks the Group Policy / Intune templates in
// windows/policy (kuvert.admx with en-US and sv-SE kuvert.adml) against
// the machine policy the code reads, settings.Policies: a template that
// offers a value the code ignores, or misses one it reads, fails here.
package policy_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/settings"
)

// The parts of the ADMX schema
// (http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions)
// the template uses; anything else in <elements> is caught by any.
type admx struct {
	Target struct {
		Prefix    string `xml:"prefix,attr"`
		Namespace string `xml:"namespace,attr"`
	} `xml:"policyNamespaces>target"`
	Using       []struct{} `xml:"policyNamespaces>using"`
	SupportedOn []struct {
		Name        string `xml:"name,attr"`
		DisplayName string `xml:"displayName,attr"`
	} `xml:"supportedOn>definitions>definition"`
	Categories []struct {
		Name        string `xml:"name,attr"`
		DisplayName string `xml:"displayName,attr"`
		ExplainText string `xml:"explainText,attr"`
	} `xml:"categories>category"`
	Policies []struct {
		Name         string `xml:"name,attr"`
		Class        string `xml:"class,attr"`
		DisplayName  string `xml:"displayName,attr"`
		ExplainText  string `xml:"explainText,attr"`
		Presentation string `xml:"presentation,attr"`
		Key          string `xml:"key,attr"`
		ValueName    string `xml:"valueName,attr"`
		Parent       struct {
			Ref string `xml:"ref,attr"`
		} `xml:"parentCategory"`
		Supported struct {
			Ref string `xml:"ref,attr"`
		} `xml:"supportedOn"`
		Elements struct {
			Any []struct {
				XMLName    xml.Name
				ID         string `xml:"id,attr"`
				ValueName  string `xml:"valueName,attr"`
				Key        string `xml:"key,attr"`
				Expandable string `xml:"expandable,attr"`
			} `xml:",any"`
		} `xml:"elements"`
	} `xml:"policies>policy"`
}

type adml struct {
	Strings []struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"resources>stringTable>string"`
	Presentations []struct {
		ID    string `xml:"id,attr"`
		Boxes []struct {
			RefID string `xml:"refId,attr"`
			Label string `xml:"label"`
		} `xml:"textBox"`
		// Other catches any element but a textBox (a combo box, a
		// drop-down list): the code reads text only.
		Other []struct{ XMLName xml.Name } `xml:",any"`
	} `xml:"resources>presentationTable>presentation"`
}

func readXML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

var ref = regexp.MustCompile(`^\$\((string|presentation)\.([A-Za-z0-9_]+)\)$`)

// resource is the id in "$(kind.id)", or "" when s is not one.
func resource(kind, s string) string {
	m := ref.FindStringSubmatch(s)
	if m == nil || m[1] != kind {
		return ""
	}
	return m[2]
}

// TestADMXMatchesSettings: every policy kuvert.admx declares is one of
// settings.Policies (same value name, key, type), every one of those is
// declared, and each is a plain text box under the key the code reads,
// for computer and user alike.
func TestADMXMatchesSettings(t *testing.T) {
	var x admx
	readXML(t, "kuvert.admx", &x)

	// Intune's ADMX ingestion wants a namespace of the vendor's own, not
	// Microsoft's; and the template stands alone (no <using>), so it
	// imports without windows.admx beside it.
	if x.Target.Prefix != "kuvert" || x.Target.Namespace == "" || strings.HasPrefix(x.Target.Namespace, "Microsoft.") {
		t.Errorf("target namespace %q prefix %q: want kuvert's own", x.Target.Namespace, x.Target.Prefix)
	}
	if len(x.Using) != 0 {
		t.Errorf("the template uses %d other namespaces: want none", len(x.Using))
	}
	categories := map[string]bool{}
	for _, c := range x.Categories {
		categories[c.Name] = true
	}
	supported := map[string]bool{}
	for _, s := range x.SupportedOn {
		supported[s.Name] = true
	}

	want := map[string]settings.PolicyValue{}
	for _, p := range settings.Policies {
		want[p.Name] = p
	}
	seen := map[string]bool{}
	for _, p := range x.Policies {
		if seen[p.Name] {
			t.Errorf("policy %s declared twice", p.Name)
		}
		seen[p.Name] = true
		code, ok := want[p.Name]
		if !ok {
			t.Errorf("kuvert.admx declares %s, which settings.Policies does not read", p.Name)
			continue
		}
		if p.Key != settings.PolicyRegistryKey {
			t.Errorf("%s: key %q, the code reads %q", p.Name, p.Key, settings.PolicyRegistryKey)
		}
		// HKLM and HKCU: the code reads both, the machine's first.
		if p.Class != "Both" {
			t.Errorf("%s: class %q, want Both (computer and user)", p.Name, p.Class)
		}
		if p.ValueName != "" {
			t.Errorf("%s: a policy-level valueName writes a DWORD on enable; the value belongs in its text element", p.Name)
		}
		if !categories[p.Parent.Ref] {
			t.Errorf("%s: category %q is not declared", p.Name, p.Parent.Ref)
		}
		if !supported[p.Supported.Ref] {
			t.Errorf("%s: supportedOn %q is not declared", p.Name, p.Supported.Ref)
		}
		if len(p.Elements.Any) != 1 {
			t.Errorf("%s: %d elements, want one text value", p.Name, len(p.Elements.Any))
			continue
		}
		e := p.Elements.Any[0]
		typ := ""
		switch {
		case e.XMLName.Local == "text" && e.Expandable != "true":
			typ = "REG_SZ"
		case e.XMLName.Local == "text":
			typ = "REG_EXPAND_SZ"
		default:
			// Intune's ingestion refuses combo boxes; the code reads text.
			typ = e.XMLName.Local
		}
		if typ != code.Type {
			t.Errorf("%s: the template writes %s, the code reads %s", p.Name, typ, code.Type)
		}
		if e.ValueName != code.Name {
			t.Errorf("%s: value name %q, the code reads %q", p.Name, e.ValueName, code.Name)
		}
		if e.Key != "" && e.Key != settings.PolicyRegistryKey {
			t.Errorf("%s: its text element writes under %q", p.Name, e.Key)
		}
	}
	for _, p := range settings.Policies {
		if !seen[p.Name] {
			t.Errorf("settings.Policies reads %s (%s), which kuvert.admx does not declare", p.Name, p.Key)
		}
	}
}

// TestADMLComplete: every string and presentation kuvert.admx names is
// in both en-US (which Intune requires) and sv-SE, each text box is the
// policy's text element, and each policy's explanation names the setting
// it sets (the key `kuvert config show` lists) in either language.
func TestADMLComplete(t *testing.T) {
	var x admx
	readXML(t, "kuvert.admx", &x)
	var strs, pres []string // what the ADMX names
	elementOf := map[string]string{}
	explainOf := map[string]string{}
	for _, s := range x.SupportedOn {
		strs = append(strs, s.DisplayName)
	}
	for _, c := range x.Categories {
		strs = append(strs, c.DisplayName, c.ExplainText)
	}
	for _, p := range x.Policies {
		strs = append(strs, p.DisplayName, p.ExplainText)
		pres = append(pres, p.Presentation)
		if id := resource("presentation", p.Presentation); id != "" && len(p.Elements.Any) == 1 {
			elementOf[id] = p.Elements.Any[0].ID
		}
		explainOf[p.Name] = resource("string", p.ExplainText)
	}
	keys := map[string]string{}
	for _, p := range settings.Policies {
		keys[p.Name] = p.Key
	}

	for lang, setting := range map[string]string{"en-US": "Setting: ", "sv-SE": "Inställning: "} {
		t.Run(lang, func(t *testing.T) {
			var l adml
			readXML(t, filepath.Join(lang, "kuvert.adml"), &l)
			table := map[string]string{}
			for _, s := range l.Strings {
				if _, dup := table[s.ID]; dup {
					t.Errorf("string %s defined twice", s.ID)
				}
				table[s.ID] = s.Text
			}
			for _, s := range strs {
				id := resource("string", s)
				if id == "" {
					t.Errorf("%q is not a $(string.…) reference", s)
				} else if strings.TrimSpace(table[id]) == "" {
					t.Errorf("string %s is missing or empty", id)
				}
			}
			presentations := map[string]int{}
			for i, p := range l.Presentations {
				presentations[p.ID] = i
			}
			for _, s := range pres {
				id := resource("presentation", s)
				i, ok := presentations[id]
				if id == "" || !ok {
					t.Errorf("presentation %q is missing", s)
					continue
				}
				p := l.Presentations[i]
				if len(p.Other) != 0 || len(p.Boxes) != 1 || p.Boxes[0].RefID != elementOf[id] || strings.TrimSpace(p.Boxes[0].Label) == "" {
					t.Errorf("presentation %s: want one labelled textBox for element %q, have %+v", id, elementOf[id], p)
				}
			}
			for name, id := range explainOf {
				if want := setting + keys[name] + "."; !strings.Contains(table[id], want) {
					t.Errorf("the explanation of %s does not name its setting (%q)", name, want)
				}
			}
		})
	}
	// The two languages define the same strings and presentations.
	var en, sv adml
	readXML(t, filepath.Join("en-US", "kuvert.adml"), &en)
	readXML(t, filepath.Join("sv-SE", "kuvert.adml"), &sv)
	ids := func(l adml) []string {
		var out []string
		for _, s := range l.Strings {
			out = append(out, "string."+s.ID)
		}
		for _, p := range l.Presentations {
			out = append(out, "presentation."+p.ID)
		}
		slices.Sort(out)
		return out
	}
	if a, b := ids(en), ids(sv); !slices.Equal(a, b) {
		t.Errorf("en-US and sv-SE differ:\n en-US %v\n sv-SE %v", a, b)
	}
}
