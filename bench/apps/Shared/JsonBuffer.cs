using System.Buffers;
using System.Text.Json;

namespace Parley.Bench;

/// <summary>
/// A per-thread <see cref="Utf8JsonWriter"/> over an <see cref="ArrayBufferWriter{T}"/>, both reused:
/// serializing the json payload allocates only the <see cref="JsonMessage"/> itself.
/// </summary>
internal static class JsonBuffer
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>Serializes the message; the bytes stay valid until the thread's next call.</summary>
    public static ReadOnlySpan<byte> Serialize(JsonMessage message)
    {
        ArrayBufferWriter<byte> buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        Utf8JsonWriter writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, message, BenchJsonContext.Default.JsonMessage);
        return buffer.WrittenSpan;
    }
}
