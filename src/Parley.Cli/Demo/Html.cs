using System.Text;

namespace Parley.Cli.Demo;

/// <summary>HTML escaping of text for element content and quoted attributes.</summary>
internal static class Html
{
    /// <summary>
    /// Escapes the five characters that matter in HTML (&amp; &lt; &gt; &quot; &#39;) and leaves everything
    /// else as is: the pages are UTF-8, so accented text stays readable in the source.
    /// </summary>
    public static string Escape(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0) return text;
        var builder = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            });
            if (c is not ('&' or '<' or '>' or '"' or '\'')) builder.Append(c);
        }
        return builder.ToString();
    }
}
