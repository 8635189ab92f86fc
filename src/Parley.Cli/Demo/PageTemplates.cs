using System.Reflection;
using System.Text;

namespace Parley.Cli.Demo;

/// <summary>The demo site's HTML pages, embedded in the assembly, with <c>{{name}}</c> placeholders.</summary>
internal static class PageTemplates
{
    private static readonly Dictionary<string, string> Cache = new(StringComparer.Ordinal);

    public static string Get(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out string? text)) return text;
            Assembly assembly = typeof(PageTemplates).Assembly;
            string resource = $"Parley.Cli.Demo.Pages.{name}";
            using Stream stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"embedded page '{name}' is missing");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            text = reader.ReadToEnd();
            Cache[name] = text;
            return text;
        }
    }

    /// <summary>Replaces each <c>{{key}}</c> with its value (values are inserted as given: escape them first).</summary>
    public static string Fill(string template, params (string Key, string Value)[] values)
    {
        var builder = new StringBuilder(template);
        foreach ((string key, string value) in values) builder.Replace("{{" + key + "}}", value);
        return builder.ToString();
    }
}
