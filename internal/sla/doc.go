// Package sla is Careloop's business-calendar engine: working hours, holidays
// and make-up working days (调休), and deadline arithmetic on them, exact to
// the nanosecond. The engine (Definition, Calendar, imports, festivals) is
// pure: no database, no HTTP, no clock. Store (store*.go) keeps calendars in
// the database, audited and versioned, and caches their compiled form; the
// ticket, job and web layers call it.
//
// # Calendars
//
// A Definition is the editable, JSON-exchanged form (name, IANA time zone,
// working intervals per weekday, dated exceptions); New validates and
// compiles it into an immutable *Calendar, safe for concurrent use. Default
// is Asia/Shanghai, Monday to Friday 09:00–12:00 and 13:30–18:00, with the
// built-in Chinese statutory holidays and make-up days of 2020–2026
// (holidays/, from NateScarlet/holiday-cn, MIT). Past 2026 it has no
// holidays until newer data is imported; the package never guesses them.
//
// Working time is a set of half-open wall-clock intervals [start, end) per
// local date. An Exception replaces the regular hours of one date, as a
// whole day in the calendar's zone: Off (closed), its own Hours (a part
// day), or neither (a make-up working day, which takes MakeUpHours —
// Monday's hours unless set). Dates not listed follow the weekday.
//
// # Invariants
//
//   - A compiled Calendar never changes; Definition returns a deep copy.
//   - Each day's intervals are sorted, non-overlapping and merged where they
//     touch; 24:00 is allowed only as an end. Validation reports every
//     problem at once as a *ValidationError with field paths and stable
//     codes.
//   - Exception dates are unique per calendar and within 1900–2100.
//   - Instants are supported in [MinTime, MaxTime) = [1900-01-01, 2101-01-01)
//     UTC; outside it the arithmetic returns ErrOutOfRange, never a wrapped
//     value.
//   - Add and Between allocate nothing and never loop without bound: every
//     walk moves forward by at least a day per step, skips whole regular
//     weeks in one step, jumps directly to the next working exception when
//     the regular week is empty, and stops at MaxTime.
//   - For every start s and d ≥ 0 for which Add succeeds,
//     Between(s, Add(s, d)) == d, and Add(s, d) never decreases as d grows
//     (checked by TestDeadlineRandomized and FuzzDeadline against a naive
//     reference implementation).
//
// # Arithmetic rules
//
// Business time is elapsed time (time.Duration) inside working intervals.
// The rules of Add and Between (starts outside working time, deadlines on a
// closing instant, zero and negative durations, holidays as whole local
// dates, daylight saving time) are specified in docs/calendar.md, section
// "Deadline arithmetic"; deadline_test.go and property_test.go check each.
//
// # Performance
//
// The walker caches the zone offset and its validity bounds (ZoneBounds), so
// all days but the few with a clock change convert wall time by integer
// arithmetic; exceptions are a sorted slice visited by one binary search
// and then a moving index; whole regular weeks are subtracted using the
// precomputed weekly total. Add of 24 business hours on a calendar with ten
// years of exceptions takes about 0.1 µs and 0 allocations (bench_test.go).
//
// # Imports
//
// ParseHolidayJSON reads holiday-cn style files ({"days": [{"name", "date",
// "isOffDay"}]}); ParseICS reads all-day iCalendar events (make-up days are
// recognised by X-CARELOOP-DAY:WORK or a SUMMARY containing 补班/上班). Both
// return exceptions in date order or an *ImportError with line, field and a
// stable code. DiffExceptions previews replacing one list by another;
// MergeExceptions applies it.
//
// # Store
//
// Store.EnsureBuiltins seeds "default" (DefaultDefinition) and "24x7" once,
// when the calendars table is empty, so admin edits are never overwritten.
// Definitions are stored as JSON text (EncodeDefinition: make-up days stay
// {"date"} and follow the regular working-day hours), import labels apart,
// with a version for ETags; every change is audited in its transaction.
// Compiled calendars are cached; a cached calendar is trusted for CacheTTL,
// then one "SELECT version" re-checks it (another server or the CLI may have
// changed it). The default calendar cannot be deleted.
//
// # Festivals and lunar dates
//
// Festivals(year) gives the dates of 除夕, 春节, 元宵, 端午, 七夕, 中秋, 重阳,
// 清明 (by the solar term) and the solar festivals for 1900–2100, computed
// with github.com/6tail/lunar-go. LunarToSolar and NextLunarAnniversary
// convert lunar dates such as birthdays, falling back to the regular month
// when a requested leap month does not exist that year and to the 29th when
// the month has no 30th.
//
// # Promises and timers
//
// Calendar.Promise computes when a customer will hear back and classifies
// the due day (a make-up working day, the first working day after a named
// holiday, today, tomorrow, a weekday, a date); Promise.Text says it in
// zh-CN or en through the sla_promise catalog. Timer is one SLA target's
// timer on one ticket: a JSON-serialisable state machine (running, paused,
// met, breached, cancelled) whose due time is the instant at which business
// time since the start, pauses excluded, reaches the target; it warns at a
// share or a lead, re-arms recurring targets after each Met, and records
// every transition with its reason. Both are pure; see docs/sla-timers.md.
//
// # Errors
//
// Sentinel errors (ErrNegativeDuration, ErrNoWorkingTime, ErrOutOfRange,
// ErrYearOutOfRange, ErrBadLunarDate, ErrTimer*) have stable codes via ErrorCode;
// *ValidationError and *ImportError carry codes per field. Messages are
// English; the web layer translates by code.
package sla
