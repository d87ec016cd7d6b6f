// Package customers owns customer records (客户档案): numbers, phones,
// search keys, spreadsheet import and export, and the rules that validate
// them.
//
// This part of the package is pure: no database, no HTTP, no clock. Callers
// pass "now" and the business time zone explicitly.
//
// Invariants:
//
//   - Customer numbers are YYYYMM (registration month in the business time
//     zone, Asia/Shanghai by default) + a serial of at least three digits.
//     Each (month, serial) has exactly one spelling: FormatNumber produces it
//     and ParseNumber refuses every other (2024050001 is not 202405001).
//   - Phones are stored in canonical form only (Phone.String): mobile
//     "13912345678", landline "010-12345678" with an optional "-ext",
//     service "400-123-4567". ParsePhone only removes formatting (spaces,
//     dashes, parentheses, +86/0086/86); it never adds, drops or guesses a
//     digit, and refuses with a key that says what is wrong.
//   - Phones leave the domain masked unless the caller's role may see them:
//     Masked/MaskPhone keep the prefix or area code and the last four digits.
//   - Validation failures are *domain.ValidationError values whose keys are
//     message-catalog keys ("validation.…", "import.…"); this package never
//     produces user-facing text.
//   - Import reads a spreadsheet as a stream through internal/sheets: it
//     never holds more than one row of a CSV in memory, reads XLSX through
//     excelize's streaming Rows, and stops at ImportOptions.MaxRows data
//     rows. A file is refused whole
//     (not a spreadsheet, several non-empty sheets, formulas, merged cells
//     below the title, broken CSV quoting, too many rows, no name column) —
//     never half-read. Rows keep the numbers the user sees in Excel.
//   - Row checks (RowChecker) take "now" and the business zone as
//     arguments, report every problem of a row with the header text the
//     user wrote and the spreadsheet row number, leave invalid fields empty
//     in the record, and refuse a customer number used twice in one file.
//     Dates are civil dates (YYYY-MM-DD), year first; day-first or
//     month-first forms are refused rather than guessed.
//   - Input cells that look like formulas (= + - @) are refused, not
//     "cleaned"; export neutralises them by the OWASP rule (leading
//     apostrophe in CSV, typed string cells in XLSX), so data written by
//     Careloop never executes in a spreadsheet.
//   - Value segments and lifecycle stages follow the rules in force
//     (Store.Rules: one row of customer_rules, else DefaultRules). SetRules
//     validates, versions and audits a change in one short transaction;
//     every stored lifecycle stage is then recomputed in batches, by a job
//     when jobs run (SetRestageQueue); the daily job re-applies the stored
//     rules as time passes. Segments are computed when read (by rules
//     cached for RulesCacheTTL); a purchase's stage reads the rules' row.
package customers
