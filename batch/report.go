package batch

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/internal/excelcsv"
)

// writeReport writes report.csv the way Swedish Excel opens it: UTF-8
// with BOM, semicolons, CRLF. Never a password.
func writeReport(path string, sum *Summary) error {
	rows := append([]RowResult(nil), sum.Rows...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Row < rows[j].Row })
	return atomicfile.Write(path, 0o600, func(f *os.File) error {
		w := excelcsv.New(f)
		w.Write("rad", "namn", "mobil", "arkiv", "sha256", "sms_id", "sms_status", "resultat", "fel", "epost", "ref", "epost_status", "notering")
		for _, r := range rows {
			archive := ""
			if r.Archive != "" {
				archive = filepath.Base(r.Archive)
			}
			w.Write(strconv.Itoa(r.Row), r.Name, r.To, archive, r.SHA256, r.SMSID, r.SMSStatus, r.Result, r.Error, r.Email, r.Ref, r.Mail, r.Note)
		}
		return w.Flush()
	})
}
