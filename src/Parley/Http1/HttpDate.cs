namespace Parley.Http1;

/// <summary>
/// HTTP-date (RFC 9110 §5.6.7): formats the preferred IMF-fixdate and parses it together with the
/// two obsolete forms, rfc850-date and asctime-date, which recipients MUST accept.
/// </summary>
internal static class HttpDate
{
    /// <summary>Length of an IMF-fixdate such as <c>Sun, 06 Nov 1994 08:49:37 GMT</c>.</summary>
    public const int FixdateLength = 29;

    private static readonly string[] DayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    private static readonly string[] LongDayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>
    /// Formats <paramref name="value"/> as an IMF-fixdate in UTC, e.g. <c>Sun, 06 Nov 1994 08:49:37 GMT</c>.
    /// Fractions of a second are dropped (RFC 9110 §5.6.7: one-second resolution).
    /// </summary>
    public static string Format(DateTimeOffset value) =>
        string.Create(FixdateLength, value.UtcDateTime, static (span, utc) => Write(span, utc));

    /// <summary>Writes the IMF-fixdate form of <paramref name="value"/> into <paramref name="destination"/> (29 chars).</summary>
    /// <returns><c>false</c> when <paramref name="destination"/> is shorter than <see cref="FixdateLength"/>.</returns>
    public static bool TryFormat(DateTimeOffset value, Span<char> destination, out int charsWritten)
    {
        if (destination.Length < FixdateLength)
        {
            charsWritten = 0;
            return false;
        }

        Write(destination, value.UtcDateTime);
        charsWritten = FixdateLength;
        return true;
    }

    /// <summary>
    /// Parses an HTTP-date in any of its three forms. Leading and trailing whitespace is ignored;
    /// anything else that does not match the grammar exactly yields <c>false</c>. Never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset value) =>
        TryParse(text, DateTimeOffset.UtcNow, out value);

    /// <summary>As <see cref="TryParse(ReadOnlySpan{char}, out DateTimeOffset)"/>, with the clock used for two-digit years.</summary>
    internal static bool TryParse(ReadOnlySpan<char> text, DateTimeOffset now, out DateTimeOffset value)
    {
        value = default;
        text = text.Trim(" \t");
        int comma = text.IndexOf(',');
        if (comma == 3)
        {
            return TryParseFixdate(text, out value);
        }

        if (comma > 3)
        {
            return TryParseRfc850(text, comma, now, out value);
        }

        return comma < 0 && TryParseAsctime(text, out value);
    }

    private static void Write(Span<char> span, DateTime utc)
    {
        DayNames[(int)utc.DayOfWeek].AsSpan().CopyTo(span);
        span[3] = ',';
        span[4] = ' ';
        Write2(span[5..], utc.Day);
        span[7] = ' ';
        MonthNames[utc.Month - 1].AsSpan().CopyTo(span[8..]);
        span[11] = ' ';
        Write2(span[12..], utc.Year / 100);
        Write2(span[14..], utc.Year % 100);
        span[16] = ' ';
        Write2(span[17..], utc.Hour);
        span[19] = ':';
        Write2(span[20..], utc.Minute);
        span[22] = ':';
        Write2(span[23..], utc.Second);
        " GMT".AsSpan().CopyTo(span[25..]);
    }

    private static void Write2(Span<char> span, int value)
    {
        span[0] = (char)('0' + (value / 10));
        span[1] = (char)('0' + (value % 10));
    }

    // IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT ; "Sun, 06 Nov 1994 08:49:37 GMT"
    private static bool TryParseFixdate(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        return s.Length == FixdateLength
            && IndexOf(DayNames, s[..3]) >= 0
            && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' '
            && TryDigits(s.Slice(5, 2), out int day)
            && (IndexOf(MonthNames, s.Slice(8, 3)) is int month and >= 0)
            && TryDigits(s.Slice(12, 4), out int year)
            && TryTime(s.Slice(17, 8), out int hour, out int minute, out int second)
            && s[25..].SequenceEqual(" GMT")
            && TryBuild(year, month + 1, day, hour, minute, second, out value);
    }

    // rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT ; "Sunday, 06-Nov-94 08:49:37 GMT"
    private static bool TryParseRfc850(ReadOnlySpan<char> s, int comma, DateTimeOffset now, out DateTimeOffset value)
    {
        value = default;
        if (IndexOf(LongDayNames, s[..comma]) < 0)
        {
            return false;
        }

        s = s[(comma + 1)..];
        if (!(s.Length == 23
            && s[0] == ' ' && s[3] == '-' && s[7] == '-' && s[10] == ' '
            && TryDigits(s.Slice(1, 2), out int day)
            && (IndexOf(MonthNames, s.Slice(4, 3)) is int month and >= 0)
            && TryDigits(s.Slice(8, 2), out int yy)
            && TryTime(s.Slice(11, 8), out int hour, out int minute, out int second)
            && s[19..].SequenceEqual(" GMT")))
        {
            return false;
        }

        // RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future
        // is the most recent past year with the same last two digits.
        int year = (now.UtcDateTime.Year / 100 * 100) + yy;
        if (year > now.UtcDateTime.Year + 50)
        {
            year -= 100;
        }

        return TryBuild(year, month + 1, day, hour, minute, second, out value);
    }

    // asctime-date = day-name SP date3 SP time-of-day SP year ; "Sun Nov  6 08:49:37 1994"
    // date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
    private static bool TryParseAsctime(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        int day;
        return s.Length == 24
            && IndexOf(DayNames, s[..3]) >= 0
            && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' '
            && (IndexOf(MonthNames, s.Slice(4, 3)) is int month and >= 0)
            && (s[8] == ' ' ? TryDigits(s.Slice(9, 1), out day) : TryDigits(s.Slice(8, 2), out day))
            && TryTime(s.Slice(11, 8), out int hour, out int minute, out int second)
            && TryDigits(s.Slice(20, 4), out int year)
            && TryBuild(year, month + 1, day, hour, minute, second, out value);
    }

    // time-of-day = hour ":" minute ":" second
    private static bool TryTime(ReadOnlySpan<char> s, out int hour, out int minute, out int second)
    {
        minute = second = 0;
        return TryDigits(s[..2], out hour)
            && s[2] == ':' && TryDigits(s.Slice(3, 2), out minute)
            && s[5] == ':' && TryDigits(s.Slice(6, 2), out second);
    }

    private static bool TryBuild(int year, int month, int day, int hour, int minute, int second, out DateTimeOffset value)
    {
        value = default;

        // RFC 9110 §5.6.7: second is 00-60; 60 is a leap second, which DateTime cannot hold.
        if (second == 60)
        {
            second = 59;
        }

        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        value = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    // Day and month names are case-sensitive (RFC 9110 §5.6.7 uses %s"..." literals).
    private static int IndexOf(string[] names, ReadOnlySpan<char> s)
    {
        for (int i = 0; i < names.Length; i++)
        {
            if (s.SequenceEqual(names[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
