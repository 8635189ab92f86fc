using System.Text;
using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>The table of a message's field lines: lookups by known field and by name, values, growth and reuse.</summary>
public class FieldTableTests
{
    // A table over "name:value" lines laid end to end, each line classified the way the parser does.
    private static FieldTable Table(params (string Name, string Value)[] lines) => Fill(new FieldTable(), lines);

    private static FieldTable Fill(FieldTable table, params (string Name, string Value)[] lines)
    {
        var source = new StringBuilder();
        foreach (var (name, value) in lines) source.Append(name).Append(':').Append(value);
        table.Reset(Encoding.Latin1.GetBytes(source.ToString()));
        int offset = 0;
        foreach (var (name, value) in lines)
        {
            byte[] nameBytes = Encoding.Latin1.GetBytes(name);
            table.Add(offset, name.Length, offset + name.Length + 1, value.Length, KnownFields.Identify(nameBytes));
            offset += name.Length + 1 + value.Length;
        }
        return table;
    }

    [Fact]
    public void Grows_past_its_first_capacity_and_keeps_every_line()
    {
        var lines = Enumerable.Range(0, 40).Select(i => ($"X-F{i}", $"v{i}")).ToArray();
        FieldTable table = Table(lines);
        Assert.Equal(40, table.Count);
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"X-F{i}", Encoding.Latin1.GetString(table.NameAt(i)));
            Assert.Equal($"v{i}", table.ValueStringAt(i));
        }
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(10, 10)]
    [InlineData(15, 30)]
    public void Reserve_makes_room_for_the_lines_asked(int present, int lines)
    {
        FieldTable table = Table(Enumerable.Range(0, present).Select(i => ($"X-F{i}", "v")).ToArray());
        FieldTable.Entry[] entries = table.Reserve(lines);
        Assert.True(entries.Length - table.Count >= lines, $"{entries.Length} entries for {table.Count} + {lines}");
    }

    [Fact]
    public void Reserve_keeps_the_array_when_the_lines_fit() // no allocation while a message's lines fit
    {
        var table = new FieldTable();
        FieldTable.Entry[] first = table.Reserve(1);
        Assert.Same(first, table.Reserve(first.Length));
    }

    [Fact]
    public void A_field_on_three_lines_stays_repeated()
    {
        FieldTable table = Table(("Host", "a"), ("Host", "b"), ("Host", "c"));
        Assert.True(table.IsRepeated(KnownField.Host));
        Assert.Equal(1, table.IndexOf(KnownField.Host, 1));
        Assert.Equal(2, table.IndexOf(KnownField.Host, 2));
        Assert.Equal(-1, table.IndexOf(KnownField.Host, 3));
    }

    [Fact]
    public void Known_names_are_shared_strings_when_sent_in_their_usual_case()
    {
        FieldTable table = Table(("Host", "a"), ("content-length", "1"), ("X-Other", "b"));
        Assert.Same(KnownFields.CanonicalName(KnownField.Host), table.NameStringAt(0));
        Assert.Equal("content-length", table.NameStringAt(1));
        Assert.Equal("X-Other", table.NameStringAt(2));
    }

    [Fact]
    public void IndexOf_Other_finds_unknown_fields()
    {
        FieldTable table = Table(("Host", "a"), ("X-A", "b"), ("X-B", "c"));
        Assert.Equal(1, table.IndexOf(KnownField.Other));
        Assert.Equal(2, table.IndexOf(KnownField.Other, 2));
        Assert.Equal(-1, table.IndexOf(KnownField.Other, 3));
    }

    [Fact]
    public void Lines_of_an_earlier_message_are_not_found_after_a_reset()
    {
        var table = new FieldTable();
        Fill(table, ("Host", "a"), ("X-A", "b"), ("X-B", "c"));
        Fill(table, ("Host", "z"));
        Assert.Equal(1, table.Count);
        Assert.Equal(-1, table.IndexOf(KnownField.Other));
        Assert.Equal(-1, table.IndexOf("X-A"));
        Assert.Null(table.GetValue("X-B"));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.NameAt(1));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Indexes_outside_the_lines_throw(int index)
    {
        FieldTable table = Table(("Host", "a"), ("X-A", "b"));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.NameAt(index));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.ValueAt(index));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.KnownAt(index));
    }

    [Fact]
    public void Values_of_the_first_line_are_found() // RFC 9110 §5.3: repeated lines join with ", "
    {
        FieldTable table = Table(("Host", "a"), ("X-A", "1"), ("x-a", "2"), ("Host", "b"));
        Assert.Equal(["a", "b"], table.GetValues("host"));
        Assert.Equal(["1", "2"], table.GetValues("X-A"));
        Assert.Equal("a, b", table.GetValue("Host"));
        Assert.Equal("1, 2", table.GetValue("x-A"));
        Assert.True(table.Contains("HOST"));
        Assert.True(table.Contains("X-a"));
        Assert.False(table.Contains("X-B"));
        Assert.Empty(table.GetValues("X-B"));
    }

    [Fact]
    public void A_non_ASCII_name_is_no_known_field_even_when_its_low_bytes_spell_one()
    {
        // U+0168 U+016F U+0173 U+0174 cut to bytes would be "host".
        FieldTable table = Table(("Host", "a"));
        Assert.Equal(-1, table.IndexOf("\u0168\u016F\u0173\u0174"));
        Assert.False(table.Contains("\u0168\u016F\u0173\u0174"));
    }
}
