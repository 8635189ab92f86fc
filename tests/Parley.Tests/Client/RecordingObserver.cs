using Parley.Client;

namespace Parley.Tests.Client;

/// <summary>Collects session events (with copies of their bytes) for assertions.</summary>
public sealed class RecordingObserver : ISessionObserver
{
    public List<(SessionEventKind Kind, bool Reused, int Status, string Text, long Size)> Events { get; } = [];

    public void OnEvent(in SessionEvent e)
    {
        lock (Events) Events.Add((e.Kind, e.Reused, e.StatusCode, System.Text.Encoding.Latin1.GetString(e.Bytes.Span), e.Size));
    }

    public List<SessionEventKind> Kinds()
    {
        lock (Events) return Events.Select(e => e.Kind).ToList();
    }

    public List<bool> ReuseFlags()
    {
        lock (Events) return Events.Where(e => e.Kind == SessionEventKind.Connected).Select(e => e.Reused).ToList();
    }

    public string Single(SessionEventKind kind)
    {
        lock (Events) return Events.Single(e => e.Kind == kind).Text;
    }
}
