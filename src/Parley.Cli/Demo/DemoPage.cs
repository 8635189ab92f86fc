namespace Parley.Cli.Demo;

/// <summary>One box of protocol text: a request or a response head as it crossed the wire.</summary>
/// <param name="Id">The HTML id of the <c>pre</c> holding the text.</param>
/// <param name="Kind"><c>request</c> or <c>response</c>: the direction, which the stylesheet colours.</param>
/// <param name="Caption">What the box holds.</param>
/// <param name="Text">The text as sent, CRLFs included (escaped when rendered).</param>
internal sealed record WirePanel(string Id, string Kind, string Caption, string Text);

/// <summary>Panels under a heading: the redirect that led to a page, a TLS session, a WebSocket's frames ...</summary>
/// <param name="Id">The HTML id of the section.</param>
/// <param name="Heading">The section's heading.</param>
/// <param name="Intro">A paragraph before the panels (already HTML), or null.</param>
/// <param name="Panels">The panels, shown side by side where the screen is wide enough.</param>
internal sealed record WireSection(string Id, string Heading, string? Intro, IReadOnlyList<WirePanel> Panels);

/// <summary>
/// What one demo page says. <see cref="PageWriter"/> wraps it in the layout (navigation, stylesheet) and
/// adds the exchange that carries it: the request the server received and the response head it sends.
/// </summary>
internal sealed class DemoPage(string language, string title, string content)
{
    /// <summary><c>en</c> or <c>fr</c>.</summary>
    public string Language { get; } = language;

    /// <summary>The document title (plain text).</summary>
    public string Title { get; } = title;

    /// <summary>The page's own content (HTML).</summary>
    public string Content { get; } = content;

    public bool French => Language == "fr";

    /// <summary>Sections shown between the content and this exchange's own request and response.</summary>
    public List<WireSection> Sections { get; } = [];
}
