using Parley.Content;

namespace Parley.Tests.Content;

// RFC 9110 §12 Content Negotiation; RFC 4647 language-range matching.
public class ContentNegotiationTests
{
    [Theory]
    [InlineData(null, "en")]
    [InlineData("", "en")]
    [InlineData("fr", "fr")]
    [InlineData("FR", "fr")] // case-insensitive
    [InlineData("ja, fr;q=0.8", "fr")] // ja is not available
    [InlineData("fr;q=0.5, de;q=0.9", "de")] // highest q wins
    [InlineData("de, fr", "de")] // ties by field order
    [InlineData("ja", "en")] // nothing matches: fallback
    [InlineData("x-klingon, !!, 123", "en")] // invalid ranges ignored
    public void Chooses_language_by_quality(string? header, string expected)
    {
        Assert.Equal(expected, ContentNegotiation.ChooseLanguage(header, ["en", "fr", "de"], "en"));
    }

    [Fact]
    public void Range_matches_longer_tags_by_basic_filtering()
    {
        // RFC 4647 §3.3.1: "fr" matches "fr-CA".
        Assert.Equal("fr-CA", ContentNegotiation.ChooseLanguage("fr", ["en", "fr-CA"], "en"));
    }

    [Fact]
    public void Basic_filtering_respects_subtag_boundaries()
    {
        Assert.Equal("en", ContentNegotiation.ChooseLanguage("fr", ["en", "fra"], "en"));
    }

    [Fact]
    public void Exact_match_is_preferred_to_a_longer_tag()
    {
        Assert.Equal("fr", ContentNegotiation.ChooseLanguage("fr", ["fr-CA", "fr"], "en"));
    }

    [Fact]
    public void Specific_range_falls_back_by_truncation()
    {
        // RFC 4647 §3.4: fr-CH → fr.
        Assert.Equal("fr", ContentNegotiation.ChooseLanguage("fr-CH", ["en", "fr"], "en"));
        Assert.Equal("fr", ContentNegotiation.ChooseLanguage("fr-CH, de;q=0.9", ["de", "fr"], "en"));
    }

    [Fact]
    public void Truncation_drops_a_trailing_singleton()
    {
        Assert.Equal("zh-Hant", ContentNegotiation.ChooseLanguage("zh-Hant-CN-x-private", ["en", "zh-Hant"], "en"));
    }

    [Fact]
    public void Truncated_range_may_match_a_sibling_region()
    {
        Assert.Equal("fr-CA", ContentNegotiation.ChooseLanguage("fr-CH", ["en", "fr-CA"], "en"));
    }

    [Fact]
    public void Star_matches_any_language_not_otherwise_listed()
    {
        Assert.Equal("de", ContentNegotiation.ChooseLanguage("en;q=0.1, *", ["en", "de"], "xx"));
        Assert.Equal("en", ContentNegotiation.ChooseLanguage("*", ["en", "de"], "xx"));
    }

    [Fact]
    public void Zero_weight_excludes_a_language_even_through_star()
    {
        Assert.Equal("de", ContentNegotiation.ChooseLanguage("*, en;q=0", ["en", "de"], "xx"));
        Assert.Equal("xx", ContentNegotiation.ChooseLanguage("*, en;q=0, de;q=0", ["en", "de"], "xx"));
    }

    [Fact]
    public void Zero_weight_applies_to_tags_the_range_matches()
    {
        Assert.Equal("fr-FR", ContentNegotiation.ChooseLanguage("fr, fr-CA;q=0", ["fr-CA", "fr-FR"], "en"));
        Assert.Equal("en", ContentNegotiation.ChooseLanguage("fr-CH, fr;q=0", ["fr"], "en"));
    }

    [Fact]
    public void Returns_the_available_tag_as_given()
    {
        Assert.Equal("pt-BR", ContentNegotiation.ChooseLanguage("PT-br", ["pt-BR"], "en"));
    }

    [Theory]
    [InlineData(null, "identity")] // no field: any coding acceptable; identity is safe
    [InlineData("", "identity")] // §12.5.3: empty value → no coding wanted
    [InlineData("gzip", "gzip")]
    [InlineData("GZIP", "gzip")]
    [InlineData("x-gzip", "gzip")] // §8.4.1.3
    [InlineData("gzip, br", "br")] // tie: server order (br first)
    [InlineData("gzip;q=1, br;q=0.5", "gzip")]
    [InlineData("*", "br")]
    [InlineData("*;q=0.5, gzip", "gzip")]
    [InlineData("deflate", "identity")] // nothing else fits
    [InlineData("br;q=0, gzip;q=0", "identity")]
    [InlineData("identity;q=1, gzip;q=0.5", "identity")]
    [InlineData("gzip;q=0.5, identity;q=0.5", "gzip")]
    [InlineData("compress, gzip;q=bogus", "identity")]
    public void Chooses_encoding(string? header, string expected)
    {
        Assert.Equal(expected, ContentNegotiation.ChooseEncoding(header, ["br", "gzip"]));
    }

    [Theory]
    [InlineData("identity;q=0")]
    [InlineData("*;q=0")]
    [InlineData("deflate, identity;q=0")]
    [InlineData("deflate, *;q=0")]
    public void Returns_null_when_nothing_is_acceptable(string header)
    {
        Assert.Null(ContentNegotiation.ChooseEncoding(header, ["br", "gzip"]));
    }

    [Fact]
    public void Explicit_identity_overrides_star_exclusion()
    {
        Assert.Equal("identity", ContentNegotiation.ChooseEncoding("*;q=0, identity", ["gzip"]));
    }

    [Fact]
    public void Zero_weighted_coding_is_not_chosen_while_identity_remains_acceptable()
    {
        Assert.Equal("br", ContentNegotiation.ChooseEncoding("gzip;q=0, *", ["gzip", "br"]));
    }

    [Fact]
    public void Encoding_with_no_available_codings_is_identity_or_null()
    {
        Assert.Equal("identity", ContentNegotiation.ChooseEncoding("gzip", []));
        Assert.Null(ContentNegotiation.ChooseEncoding("identity;q=0", []));
    }

    private static readonly string[] Types = ["text/html; charset=utf-8", "application/json", "image/png"];

    [Theory]
    [InlineData(null, "text/html; charset=utf-8")] // §12.5.1: no Accept → anything
    [InlineData("", "text/html; charset=utf-8")]
    [InlineData("application/json", "application/json")]
    [InlineData("APPLICATION/JSON", "application/json")]
    [InlineData("image/*", "image/png")]
    [InlineData("*/*", "text/html; charset=utf-8")]
    [InlineData("application/json, */*", "application/json")] // named type beats */* at equal q
    [InlineData("*/*, application/json", "application/json")]
    [InlineData("text/html;q=0.9, application/json", "application/json")]
    [InlineData("application/json, text/html", "application/json")] // tie by field order
    [InlineData("text/html, application/json", "text/html; charset=utf-8")]
    [InlineData("text/*;q=0.3, text/html;q=0.7, */*;q=0.5", "text/html; charset=utf-8")]
    [InlineData("*/*;q=0.5, text/html;q=0", "application/json")] // text/html excluded
    [InlineData("text/html;charset=UTF-8", "text/html; charset=utf-8")] // parameters must be present
    [InlineData("text/html;level=1, image/png;q=0.1", "image/png")]
    [InlineData("*/html, image/png", "image/png")] // "*/html" is not a media range
    public void Chooses_media_type(string? accept, string? expected)
    {
        Assert.Equal(expected, ContentNegotiation.ChooseMediaType(accept, Types));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("*/*;q=0")]
    [InlineData("video/*")]
    public void Media_type_is_null_when_nothing_is_acceptable(string accept)
    {
        Assert.Null(ContentNegotiation.ChooseMediaType(accept, Types));
    }

    [Fact]
    public void More_specific_range_overrides_less_specific()
    {
        // RFC 9110 §12.5.1 example: text/html;level=1 gets q=1 and text/html gets q=0.7.
        const string accept = "text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5";
        Assert.Equal("text/html;level=1", ContentNegotiation.ChooseMediaType(accept, ["text/html", "text/html;level=1"]));
        Assert.Equal("text/html", ContentNegotiation.ChooseMediaType(accept, ["text/html;level=2", "text/html", "image/jpeg"]));
        Assert.Equal("image/jpeg", ContentNegotiation.ChooseMediaType(accept, ["text/plain", "image/jpeg"]));
    }

    [Fact]
    public void Random_fields_only_ever_choose_an_offered_value_or_the_fallback()
    {
        string[] languages = ["a", "a-b", "b"], encodings = ["a", "b"], mediaTypes = ["a/b", "a/a;q=1", "b/*"];
        var random = new Random(21);
        const string alphabet = "ab*/;q=0.1,- \"\\\t";
        for (int i = 0; i < 5000; i++)
        {
            char[] chars = new char[random.Next(0, 30)];
            for (int j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            string field = new(chars);
            string language = ContentNegotiation.ChooseLanguage(field, languages, "z");
            Assert.True(language == "z" || languages.Contains(language), $"'{field}' chose language '{language}'");
            string? encoding = ContentNegotiation.ChooseEncoding(field, encodings);
            // identity is acceptable unless the field excludes it (RFC 9110 §12.5.3).
            Assert.True(encoding is null or "identity" || encodings.Contains(encoding), $"'{field}' chose encoding '{encoding}'");
            string? mediaType = ContentNegotiation.ChooseMediaType(field, mediaTypes);
            Assert.True(mediaType is null || mediaTypes.Contains(mediaType), $"'{field}' chose media type '{mediaType}'");
            // The choice depends on the field and the offer, nothing else.
            Assert.Equal(language, ContentNegotiation.ChooseLanguage(field, languages, "z"));
        }
    }
}
