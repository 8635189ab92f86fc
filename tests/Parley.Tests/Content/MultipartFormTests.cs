using System.Text;
using Parley.Content;

namespace Parley.Tests.Content;

// RFC 7578 multipart/form-data read as a whole form.
public class MultipartFormTests
{
    private const string Boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

    private static string Part(string disposition, string content, string? contentType = null) =>
        $"--{Boundary}\r\nContent-Disposition: {disposition}\r\n" +
        (contentType is null ? "" : $"Content-Type: {contentType}\r\n") +
        $"\r\n{content}\r\n";

    private static Stream Body(params string[] parts) =>
        new MemoryStream(Encoding.UTF8.GetBytes(string.Concat(parts) + $"--{Boundary}--\r\n"));

    [Fact]
    public async Task Collects_text_fields_and_streams_files_to_sinks()
    {
        Stream body = Body(
            Part("form-data; name=\"title\"", "Holiday"),
            Part("form-data; name=\"photo\"; filename=\"beach.jpg\"", "JPEGDATA", "image/jpeg"),
            Part("form-data; name=\"tag\"", "sea"),
            Part("form-data; name=\"tag\"", "sun"));
        var sinks = new Dictionary<string, MemoryStream>();

        MultipartFormData form = await MultipartForm.ReadAsync(body, Boundary, null, file =>
        {
            var sink = new MemoryStream();
            sinks[file.FileName] = sink;
            return sink;
        });

        Assert.Equal("Holiday", form.Fields["title"]);
        Assert.Equal(["sea", "sun"], form.Fields.GetValues("tag"));
        FilePart photo = Assert.Single(form.Files);
        Assert.Equal("photo", photo.Name);
        Assert.Equal("beach.jpg", photo.FileName);
        Assert.Equal("image/jpeg", photo.ContentType);
        Assert.Equal(8, photo.Length);
        Assert.Equal("JPEGDATA", Encoding.ASCII.GetString(sinks["beach.jpg"].ToArray()));
    }

    [Fact]
    public async Task Disposes_each_sink_after_writing_the_file()
    {
        var sink = new TrackingStream();
        await MultipartForm.ReadAsync(Body(Part("form-data; name=\"f\"; filename=\"a\"", "x")), Boundary, null, _ => sink);
        Assert.True(sink.Disposed);
    }

    [Fact]
    public async Task Skips_empty_file_inputs()
    {
        MultipartFormData form = await MultipartForm.ReadAsync(
            Body(Part("form-data; name=\"f\"; filename=\"\"", "", "application/octet-stream")), Boundary, null,
            _ => throw new InvalidOperationException("no sink expected"));
        Assert.Empty(form.Files);
        Assert.Empty(form.Fields);
    }

    [Fact]
    public async Task Discarding_sink_still_counts_length()
    {
        MultipartFormData form = await MultipartForm.ReadAsync(
            Body(Part("form-data; name=\"f\"; filename=\"big.bin\"", new string('z', 100_000))), Boundary, null, _ => Stream.Null);
        Assert.Equal(100_000, Assert.Single(form.Files).Length);
    }

    [Fact]
    public async Task Decodes_text_fields_as_utf8()
    {
        MultipartFormData form = await MultipartForm.ReadAsync(Body(Part("form-data; name=\"city\"", "Zürich")), Boundary, null, _ => Stream.Null);
        Assert.Equal("Zürich", form.Fields["city"]);
    }

    [Fact]
    public async Task Rejects_invalid_utf8_in_text_field()
    {
        byte[] body = [.. Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"), 0xC3, 0x28,
            .. Encoding.ASCII.GetBytes($"\r\n--{Boundary}--")];
        FormException ex = await Assert.ThrowsAsync<FormException>(() => MultipartForm.ReadAsync(new MemoryStream(body), Boundary, null, _ => Stream.Null));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public async Task Rejects_text_field_over_the_value_limit_but_not_files()
    {
        var limits = new MultipartLimits { MaxFieldValueBytes = 10 };
        FormException ex = await Assert.ThrowsAsync<FormException>(() =>
            MultipartForm.ReadAsync(Body(Part("form-data; name=\"bio\"", new string('b', 11))), Boundary, limits, _ => Stream.Null));
        Assert.Equal(400, ex.StatusCode);
        Assert.Contains("bio", ex.Message);

        MultipartFormData form = await MultipartForm.ReadAsync(
            Body(Part("form-data; name=\"bio\"", new string('b', 10)), Part("form-data; name=\"f\"; filename=\"f\"", new string('f', 1000))),
            Boundary, limits, _ => Stream.Null);
        Assert.Equal(10, form.Fields["bio"]!.Length);
    }

    [Fact]
    public async Task Rejects_part_without_form_data_name()
    {
        FormException ex = await Assert.ThrowsAsync<FormException>(() =>
            MultipartForm.ReadAsync(Body(Part("form-data; filename=\"a\"", "x")), Boundary, null, _ => Stream.Null));
        Assert.Equal(400, ex.StatusCode);
        Assert.Contains("RFC 7578", ex.Message);
    }

    [Fact]
    public async Task Total_limit_covers_files_with_413()
    {
        var limits = new MultipartLimits { MaxTotalBytes = 1000 };
        FormException ex = await Assert.ThrowsAsync<FormException>(() =>
            MultipartForm.ReadAsync(Body(Part("form-data; name=\"f\"; filename=\"a\"", new string('a', 5000))), Boundary, limits, _ => Stream.Null));
        Assert.Equal(413, ex.StatusCode);
    }

    [Fact]
    public async Task Sink_exceptions_propagate()
    {
        await Assert.ThrowsAsync<IOException>(() =>
            MultipartForm.ReadAsync(Body(Part("form-data; name=\"f\"; filename=\"a\"", "x")), Boundary, null, _ => throw new IOException("disk full")));
    }

    [Fact]
    public async Task Empty_multipart_body_gives_empty_form()
    {
        MultipartFormData form = await MultipartForm.ReadAsync(Body(), Boundary, null, _ => Stream.Null);
        Assert.Empty(form.Fields);
        Assert.Empty(form.Files);
    }

    private sealed class TrackingStream : MemoryStream
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
