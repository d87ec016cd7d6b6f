// Package sla is Careloop's business-calendar engine: working hours, holidays
// and make-up working days (调休), and deadline arithmetic on them, exact to
// the nanosecond. It is pure: no database, no HTTP, no clock. The ticket,
// job and web layers call it.
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
//
//  1. Add(start, d) returns the instant at which d of business time has
//     elapsed after start. The result is in the calendar's location.
//  2. An instant outside working time starts counting at the next opening:
//     Saturday 10:00 + 1h is Monday 10:00; 12:30 + 30m is 14:00 when lunch
//     is 12:00–13:30.
//  3. A deadline that lands exactly at the end of a working interval stays
//     there: Monday 09:00 + 3h is Monday 12:00, not 13:30; + 7h30m is
//     Monday 18:00, not Tuesday 09:00. One nanosecond more moves it to the
//     next opening.
//  4. A start exactly at closing uses nothing of that day: Monday 18:00 + 1h
//     is Tuesday 10:00. (Intervals are half-open; 18:00 is not working time.)
//  5. A zero duration gives the first working instant at or after the start:
//     the start itself inside working time, else the next opening (so
//     Monday 12:00 + 0 is 13:30). NextWorking(t) is Add(t, 0).
//  6. A negative duration is refused with ErrNegativeDuration. A calendar
//     with no working time at all, or with none left after the start (only
//     exception days in the past), or too little for d, gives
//     ErrNoWorkingTime.
//  7. Between(a, b) is the business time in [a, b). If b is before a the
//     result is negative: Between(a, b) == -Between(b, a). It fails only
//     for a calendar with no working time at all (ErrNoWorkingTime) or
//     out-of-range instants.
//  8. Holidays and make-up days are whole local dates in the calendar's
//     zone, unless they carry their own hours. A Shanghai holiday starts at
//     00:00 CST, whatever zone the caller's times are in.
//  9. Time zones with daylight saving time: intervals are wall-clock times
//     of each local date, converted to instants in the calendar's zone. On
//     the day the clocks change, an interval spanning the change is one hour
//     shorter or longer in business time (a 24×7 Berlin calendar has 23
//     working hours on the last Sunday of March and 25 on the last Sunday
//     of October). A wall time that does not exist (02:30 in a spring-
//     forward gap) is resolved as time.Date resolves it (03:30 CEST); an
//     ambiguous one (02:30 when falling back) as the later, standard-time
//     instant.
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
// # Festivals and lunar dates
//
// Festivals(year) gives the dates of 除夕, 春节, 元宵, 端午, 七夕, 中秋, 重阳,
// 清明 (by the solar term) and the solar festivals for 1900–2100, computed
// with github.com/6tail/lunar-go. LunarToSolar and NextLunarAnniversary
// convert lunar dates such as birthdays, falling back to the regular month
// when a requested leap month does not exist that year and to the 29th when
// the month has no 30th.
//
// # Errors
//
// Sentinel errors (ErrNegativeDuration, ErrNoWorkingTime, ErrOutOfRange,
// ErrYearOutOfRange, ErrBadLunarDate) have stable codes via ErrorCode;
// *ValidationError and *ImportError carry codes per field. Messages are
// English; the web layer translates by code.
package sla
