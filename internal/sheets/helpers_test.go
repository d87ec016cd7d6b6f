package sheets

import (
	"bytes"
	"errors"
	"testing"

	"github.com/careloop/careloop/internal/domain"
)

// col is the test domain's columns: a care-record-like sheet.
type col uint8

const (
	colNone col = iota
	colNumber
	colName
	colPhone
	colDate
	colMethod
	colRemarks
	colCount
)

func (c col) String() string {
	return [colCount]string{"", "number", "name", "phone", "care_date", "method", "remarks"}[c]
}

const keyNoName = "test.no_name_column"

var testSchema = NewSchema(
	Column[col]{Field: colNumber, Aliases: []string{"客户编号", "编号", "Customer number", "number"}},
	Column[col]{Field: colName, Aliases: []string{"客户名称/单位", "客户名称", "name", "Customer"}, Missing: keyNoName},
	Column[col]{Field: colPhone, Aliases: []string{"联系方式", "手机", "phone", "mobile"}, Multi: true},
	Column[col]{Field: colDate, Aliases: []string{"关怀日期", "Care date"}},
	Column[col]{Field: colMethod, Aliases: []string{"关怀方式", "Method"}},
	Column[col]{Field: colRemarks, Aliases: []string{"备注", "Remarks"}},
)

// readAll opens data and returns the header and every data row.
func readAll(t testing.TB, data []byte, opts Options) (*Header[col], []Row[col], error) {
	t.Helper()
	rd, err := Open(bytes.NewReader(data), opts, testSchema)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	var rows []Row[col]
	for r, err := range rd.Rows() {
		if err != nil {
			return rd.Header(), rows, err
		}
		rows = append(rows, r)
	}
	return rd.Header(), rows, nil
}

// refusal returns the key and params of a refusal for field "file", and
// fails the test for any other error.
func refusal(t testing.TB, err error) (string, map[string]any) {
	t.Helper()
	if err == nil {
		return "", nil
	}
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 || ve.Fields[0].Field != FileField {
		t.Fatalf("error %v is not a refusal of the file", err)
	}
	return ve.Fields[0].Key, ve.Fields[0].Params
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
