using System.Buffers;
using System.Text;
using Parley.Http1;
using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>
/// The field collections of the server, unit-level: <see cref="FieldLines"/> (order, case-insensitive names,
/// growth, removal), <see cref="ResponseHeaders"/> (engine fields refused, read-only once the head is out, the
/// encoded lines follow every change), <see cref="RequestHeaders"/> (lookup and enumeration of a parsed head),
/// and the engine's own error responses.
/// </summary>
public class FieldCollectionTests
{
    private static string Describe(FieldLines lines) =>
        string.Join(";", lines.AsSpan().ToArray().Select(line => $"{line.Key}={line.Value}"));

    [Fact]
    public void Field_lines_keep_their_order_grow_past_their_capacity_and_find_names_case_insensitively()
    {
        var lines = new FieldLines(2);
        lines.Append("A", "1");
        lines.Append("B", "2");
        // Full: a lookup of an absent name must not read past the lines.
        Assert.Equal(-1, lines.IndexOf("C"));
        Assert.Null(lines.FirstValue("C"));
        lines.Append("a", "3");
        Assert.Equal((3, 4), (lines.Count, lines.Capacity));
        Assert.Equal("A=1;B=2;a=3", Describe(lines));
        Assert.Equal("1", lines.FirstValue("a"));
        Assert.Equal("2", lines.FirstValue("b"));
        Assert.Equal(1, lines.IndexOf("B"));
    }

    [Fact]
    public void Removing_a_field_takes_every_line_of_it_keeps_the_others_in_order_and_says_whether_there_was_one()
    {
        // Full storage, so that a copy or a walk past the lines would fail.
        var lines = new FieldLines(5);
        foreach ((string name, string value) in new[] { ("X", "1"), ("A", "2"), ("x", "3"), ("B", "4"), ("X", "5") }) lines.Append(name, value);
        Assert.False(lines.RemoveAll("C"));
        Assert.Equal(5, lines.Count);
        Assert.True(lines.RemoveAll("X"));
        Assert.Equal("A=2;B=4", Describe(lines));
        Assert.True(lines.RemoveAll("A"));
        Assert.Equal("B=4", Describe(lines));
        Assert.False(lines.RemoveAll("A"));

        var middle = new FieldLines(3);
        middle.Append("A", "1");
        middle.Append("B", "2");
        middle.Append("C", "3");
        Assert.True(middle.RemoveAll("b"));
        Assert.Equal("A=1;C=3", Describe(middle));
    }

    [Fact]
    public void Clearing_drops_the_references_the_lines_held_and_keeps_the_storage()
    {
        var lines = new FieldLines(4);
        lines.Append("A", "1");
        lines.Append("B", "2");
        lines.Clear();
        Assert.Equal((0, 4), (lines.Count, lines.Capacity));
        Assert.Equal(default, lines[0]);
        Assert.Equal(default, lines[1]);
        lines.Append("C", "3");
        Assert.Equal("C=3", Describe(lines));
    }

    private static string Encoded(ResponseHeaders headers) => Encoding.ASCII.GetString(headers.EncodedFieldLines());

    [Fact]
    public void Response_headers_set_replaces_add_keeps_and_the_indexer_sets_or_removes()
    {
        var headers = new ResponseHeaders();
        headers.Add("Set-Cookie", "a=1");
        headers.Add("Set-Cookie", "b=2");
        headers.Add("Vary", "Accept");
        headers.Set("set-cookie", "c=3");
        Assert.Equal("Vary: Accept\r\nset-cookie: c=3\r\n", Encoded(headers));
        headers["Vary"] = "Origin";
        headers["X-New"] = "1";
        Assert.Equal("Origin", headers["vary"]);
        Assert.Equal(3, headers.Count);
        headers["Vary"] = null;
        Assert.False(headers.Contains("Vary"));
        Assert.Null(headers["Vary"]);
        Assert.Equal([new("set-cookie", "c=3"), new("X-New", "1")], headers.ToList());
    }

    [Fact]
    public void Response_headers_refuse_a_null_or_invalid_value_before_they_change_anything()
    {
        var headers = new ResponseHeaders();
        headers.Add("Vary", "Accept");
        Assert.Throws<ArgumentNullException>(() => headers.Add("X-A", null!));
        Assert.Throws<ArgumentNullException>(() => headers.Set("Vary", null!));
        Assert.Throws<ArgumentNullException>(() => headers.Add(null!, "1"));
        Assert.Throws<ArgumentException>(() => headers.Set("Vary", "a\r\nInjected: 1"));
        // The refused Set left the field as it was, and nothing half-added is encoded.
        Assert.Equal("Vary: Accept\r\n", Encoded(headers));
    }

    [Theory]
    [InlineData("Date")]
    [InlineData("connection")]
    [InlineData("Keep-Alive")]
    [InlineData("Content-Length")]
    [InlineData("TRANSFER-ENCODING")]
    public void Response_headers_refuse_the_fields_the_engine_writes(string name)
    {
        var headers = new ResponseHeaders();
        var refused = Assert.Throws<ArgumentException>(() => headers.Add(name, "1"));
        Assert.Equal("name", refused.ParamName);
        Assert.StartsWith($"'{name}' is managed by the engine: set HttpResponse.ContentLength or HttpResponse.CloseConnection instead", refused.Message);
        Assert.Throws<ArgumentException>(() => headers[name] = "1");
        Assert.Equal(0, headers.Count);
    }

    [Fact]
    public void Fields_of_the_same_lengths_as_the_engines_are_the_handlers()
    {
        var headers = new ResponseHeaders();
        headers.Add("Vary", "Accept");
        headers.Add("Connectio2", "x");
        headers.Add("Content-Lengtx", "x");
        headers.Add("Transfer-Encodinx", "x");
        Assert.Equal(4, headers.Count);
    }

    [Fact]
    public void Once_the_head_is_written_response_headers_can_no_longer_change_until_cleared()
    {
        var headers = new ResponseHeaders();
        headers.Add("Vary", "Accept");
        headers.MakeReadOnly();
        const string Message = "the response head has already been written; headers can no longer change";
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => headers.Add("X-A", "1")).Message);
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => headers.Remove("Vary")).Message);
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => headers.Set("Vary", "Origin")).Message);
        Assert.Equal(Message, Assert.Throws<InvalidOperationException>(() => headers["Vary"] = null).Message);
        Assert.Equal("Vary: Accept\r\n", Encoded(headers));
        headers.Clear();
        headers.Add("X-A", "1");
        Assert.Equal("X-A: 1\r\n", Encoded(headers));
    }

    [Fact]
    public void The_encoded_lines_follow_a_changed_name_or_value_even_of_the_same_length()
    {
        var headers = new ResponseHeaders();
        const string Value = "v";
        headers.Set("X-A", Value);
        Assert.Equal("X-A: v\r\n", Encoded(headers));
        Assert.Equal("X-A: v\r\n", Encoded(headers));
        // Another name with the very same value string.
        headers.Remove("X-A");
        headers.Add("X-B", Value);
        Assert.Equal("X-B: v\r\n", Encoded(headers));
        // The same name string with another value.
        headers.Set("X-B", "w");
        Assert.Equal("X-B: w\r\n", Encoded(headers));
        for (int i = 0; i < 20; i++) headers.Add("X-Many", new string('m', i));
        string expected = "X-B: w\r\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"X-Many: {new string('m', i)}\r\n"));
        Assert.Equal(expected, Encoded(headers));
    }

    private static RequestHeaders Parse(string head) => ParsedRequest.From(head).Headers;

    [Fact]
    public void Request_headers_give_raw_values_from_the_first_line_on_and_enumerate_every_line_in_order()
    {
        RequestHeaders headers = Parse("GET / HTTP/1.1\r\nHost: example.test\r\nAccept: a\r\nX-Tag: one\r\nx-tag:  two \r\n\r\n");
        Assert.True(headers.TryGetRawValue("host", out ReadOnlySpan<byte> host));
        Assert.Equal("example.test", Encoding.ASCII.GetString(host));
        Assert.True(headers.TryGetRawValue("X-TAG", out ReadOnlySpan<byte> tag));
        Assert.Equal("one", Encoding.ASCII.GetString(tag));
        Assert.False(headers.TryGetRawValue("Cookie", out ReadOnlySpan<byte> none));
        Assert.True(none.IsEmpty);
        Assert.Equal(
            [new("Host", "example.test"), new("Accept", "a"), new("X-Tag", "one"), new("x-tag", "two")],
            headers.ToList());
        Assert.Equal(4, ((System.Collections.IEnumerable)headers).Cast<object>().Count());
    }

    [Theory]
    [InlineData("Parley/1.0", "Server: Parley/1.0\r\n")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void An_error_response_names_its_status_and_reason_in_a_closing_text_response(string? serverHeader, string serverLine)
    {
        byte[] bytes = ErrorResponses.Build(431, "field line too long: naïve", serverHeader);
        string text = Encoding.UTF8.GetString(bytes);
        const string Body = "431 Request Header Fields Too Large: field line too long: naïve\n";
        Assert.Matches(
            "^HTTP/1\\.1 431 Request Header Fields Too Large\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\r\n"
            + System.Text.RegularExpressions.Regex.Escape(serverLine)
            + $"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(Body)}\r\nConnection: close\r\n\r\n"
            + System.Text.RegularExpressions.Regex.Escape(Body) + "$",
            text);
    }

    [Fact]
    public void Building_an_error_response_returns_its_buffer_to_the_pool()
    {
        // The shared pool hands a thread back the array it last returned: the one the build rented and,
        // once done with it, returned.
        byte[] rented = ArrayPool<byte>.Shared.Rent(256);
        ArrayPool<byte>.Shared.Return(rented);
        ErrorResponses.Build(503, "too many connections", null);
        byte[] again = ArrayPool<byte>.Shared.Rent(256);
        ArrayPool<byte>.Shared.Return(again);
        Assert.Same(rented, again);
    }
}
