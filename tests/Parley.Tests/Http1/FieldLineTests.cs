using Parley.Http1;
using static Parley.Tests.Http1.ParseHarness;

namespace Parley.Tests.Http1;

/// <summary>Field lines of a request head (RFC 9112 §5, RFC 9110 §5).</summary>
public class FieldLineTests
{
    private static RequestHead WithField(string fieldLine) => Accepts($"GET / HTTP/1.1\r\nHost: x\r\n{fieldLine}\r\n\r\n");

    private static void RejectsField(string fieldLine, int status = 400) =>
        Rejects($"GET / HTTP/1.1\r\nHost: x\r\n{fieldLine}\r\n\r\n", status);

    [Fact]
    public void Keeps_fields_in_order_with_names_as_received() // RFC 9110 §5.3: order of field lines is significant
    {
        RequestHead head = Accepts("GET / HTTP/1.1\r\nhOsT: x\r\nX-B: 2\r\nX-A: 1\r\nX-B: 3\r\n\r\n");
        Assert.Equal(4, head.Fields.Count);
        Assert.Equal("hOsT", Latin1(head.Fields.NameAt(0)));
        Assert.Equal(KnownField.Host, head.Fields.KnownAt(0));
        Assert.Equal("X-B", Latin1(head.Fields.NameAt(1)));
        Assert.Equal("2, 3", head.Fields.GetValue("x-b"));
        Assert.Equal(["2", "3"], head.Fields.GetValues("X-B"));
    }

    [Theory] // RFC 9110 §5.1: field names are case-insensitive
    [InlineData("host", KnownField.Host)]
    [InlineData("CONTENT-LENGTH", KnownField.ContentLength)]
    [InlineData("transfer-encoding", KnownField.TransferEncoding)]
    [InlineData("cOnNeCtIoN", KnownField.Connection)]
    [InlineData("Expect", KnownField.Expect)]
    [InlineData("te", KnownField.TE)]
    [InlineData("X-Host", KnownField.Other)]
    public void Recognises_known_field_names_case_insensitively(string name, object expectedValue) // object: KnownField is internal
    {
        var expected = (KnownField)expectedValue;
        Assert.Equal(expected, KnownFields.Identify(System.Text.Encoding.ASCII.GetBytes(name)));
    }

    [Theory]
    [InlineData("X-Test:value", "value")]
    [InlineData("X-Test:   value", "value")]
    [InlineData("X-Test: value   ", "value")]
    [InlineData("X-Test:\t value \t", "value")]
    [InlineData("X-Test: a  b", "a  b")]       // inner whitespace is part of the value
    public void Trims_optional_whitespace_on_both_sides_of_the_value(string line, string value) // RFC 9112 §5.1: OWS field-value OWS
    {
        RequestHead head = WithField(line);
        Assert.Equal(value, head.Fields.GetValue("X-Test"));
    }

    [Theory]
    [InlineData("X-Empty:")]
    [InlineData("X-Empty: ")]
    [InlineData("X-Empty:\t\t")]
    public void Accepts_an_empty_field_value(string line) // RFC 9110 §5.5: field-value = *field-content
    {
        RequestHead head = WithField(line);
        Assert.Equal("", head.Fields.GetValue("X-Empty"));
    }

    [Fact]
    public void Accepts_obs_text_in_a_field_value_as_opaque_bytes() // RFC 9110 §5.5: obs-text
    {
        RequestHead head = WithField("X-Name: caf\u00e9 \u00ff\u0080");
        Assert.Equal("caf\u00e9 \u00ff\u0080", head.Fields.GetValue("X-Name"));
    }

    [Theory]
    [InlineData("X-A: 1\r\n folded")]
    [InlineData("X-A: 1\r\n\tfolded")]
    [InlineData("X-A: 1\r\n    ")]
    public void Rejects_obs_fold_with_400(string lines) => RejectsField(lines); // RFC 9112 §5.2: MUST reject or unfold

    [Fact]
    public void Rejects_whitespace_before_the_first_field_line_with_400() // RFC 9112 §2.2: MUST reject or consume
    {
        Rejects("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400);
    }

    [Theory]
    [InlineData("Host : x")]
    [InlineData("X-A\t: 1")]
    [InlineData("X-A : 1")]
    public void Rejects_whitespace_between_field_name_and_colon_with_400(string line) // RFC 9112 §5.1: MUST reject with 400
    {
        Rejects($"GET / HTTP/1.1\r\nHost: x\r\n{line}\r\n\r\n", 400);
    }

    [Theory]
    [InlineData("Ho(st: x")]
    [InlineData("X@A: 1")]
    [InlineData("X A: 1")]
    [InlineData("X\"A: 1")]
    [InlineData("X/A: 1")]
    [InlineData("X\u00e9: 1")]
    [InlineData("X\u0001A: 1")]
    [InlineData("X\u007fA: 1")]
    public void Rejects_a_field_name_with_a_non_token_character_with_400(string line) => RejectsField(line); // RFC 9110 §5.1: field-name = token

    [Theory]
    [InlineData(": value")]
    [InlineData(":")]
    public void Rejects_an_empty_field_name_with_400(string line) => RejectsField(line); // RFC 9110 §5.1

    [Theory]
    [InlineData("X-No-Colon")]
    [InlineData("X-No-Colon value")]
    public void Rejects_a_field_line_without_a_colon_with_400(string line) => RejectsField(line); // RFC 9112 §5

    [Theory]
    [InlineData("X: a\u0000b")]
    [InlineData("X: a\u0001b")]
    [InlineData("X: a\u001fb")]
    [InlineData("X: a\u007fb")]
    [InlineData("X: \u0000")]
    [InlineData("X: a\u000bb")]
    [InlineData("X: a\u000cb")]
    public void Rejects_NUL_CTL_and_DEL_in_a_field_value_with_400(string line) => RejectsField(line); // RFC 9110 §5.5

    [Fact]
    public void Accepts_a_tab_inside_a_field_value() // RFC 9110 §5.5: field-content allows HTAB
    {
        RequestHead head = WithField("X: a\tb");
        Assert.Equal("a\tb", head.Fields.GetValue("X"));
    }

    [Fact]
    public void Accepts_colons_inside_a_field_value() // RFC 9112 §5.1: the first colon ends the name
    {
        RequestHead head = WithField("X-Url: http://a:1/b");
        Assert.Equal("http://a:1/b", head.Fields.GetValue("X-Url"));
    }
}
