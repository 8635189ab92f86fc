using System.Text;
using Parley.Http1;

namespace Parley.Server;

/// <summary>The complete responses the engine sends on its own when a request cannot be handled.</summary>
internal static class ErrorResponses
{
    /// <summary>A small text/plain response naming the problem, always closing the connection.</summary>
    public static byte[] Build(int statusCode, string reason, string? serverHeader)
    {
        string body = $"{statusCode} {StatusCodes.ReasonPhrase(statusCode)}: {reason}\n";
        var output = new ByteBuffer(256);
        MessageWriter.WriteStatusLine(output, statusCode);
        output.Write(DateField.CurrentLine);
        if (!string.IsNullOrEmpty(serverHeader)) MessageWriter.WriteField(output, "Server", serverHeader);
        output.Write("Content-Type: text/plain; charset=utf-8\r\n"u8);
        MessageWriter.WriteContentLength(output, Encoding.UTF8.GetByteCount(body));
        output.Write("Connection: close\r\n\r\n"u8);
        output.Write(Encoding.UTF8.GetBytes(body));
        byte[] bytes = output.WrittenSpan.ToArray();
        output.Dispose();
        return bytes;
    }
}
