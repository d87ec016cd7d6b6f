// Package sheets reads and writes the spreadsheets Careloop's domains take
// in and give out (customer import and export, care records, reports): one
// copy of the file handling, so every import refuses the same bad files with
// the same words and every export is safe to open.
//
// A domain declares its columns once (a Schema: aliases in Chinese and
// English, which may repeat, which are required) and gets rows with the
// numbers the user sees; it keeps its own rules for the values. This
// package knows no domain: no database, no HTTP, no user-facing text.
//
// Invariants:
//
//   - A file is read as a stream: never more than one row of a CSV in
//     memory; XLSX through excelize's streaming rows with large parts
//     spooled to Options.TempDir; Reader.Next stops at Options.MaxRows data
//     rows.
//   - A file that cannot be read whole is refused whole, before any row is
//     handed out where possible, with a *domain.ValidationError for field
//     "file" and an "import.*" catalog key: not a spreadsheet, .xls, several
//     non-empty sheets, formulas, merged cells on or below the header,
//     broken CSV quoting, mixed encodings, too many rows or bytes, no
//     header, a column twice, a required column missing.
//   - Workbook bombs are refused from the zip directory and one byte scan of
//     the sheet and the shared strings, before excelize unpacks anything
//     (xlsxlimits.go); the limits grow with the allowed rows.
//   - CSV text is UTF-8 (BOM or not), UTF-16 with BOM, or GB18030/GBK,
//     decided at the first non-ASCII byte; the delimiter (comma, tab,
//     semicolon, or Excel's "sep=" line) from the first line.
//   - Row numbers are the spreadsheet's: the header is row 1 unless title
//     or blank rows precede it, blank rows count, a quoted cell over several
//     lines is one row.
//   - Exports never execute: CSV cells that a spreadsheet would run as a
//     formula (= + - @ TAB CR, except plain numbers) get a leading
//     apostrophe, XLSX cells are typed strings. CSV is UTF-8 with BOM and
//     CRLF, for Excel in China.
package sheets
