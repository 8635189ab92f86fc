using Parley.Http1;

namespace Parley.Tests.Http1;

/// <summary>Reason phrases of the IANA HTTP Status Code Registry (RFC 9110 §15).</summary>
public class StatusCodesTests
{
    // The registry as of RFC 9110 and its extensions (102 RFC 2518, 103 RFC 8297, 104 resumable uploads,
    // 207/208/226/423/424/507/508 WebDAV and delta encoding, 425 RFC 8470, 428/429/431/511 RFC 6585, 451 RFC 7725, 510 RFC 2774).
    public static readonly int[] Registered =
    [
        100, 101, 102, 103, 104,
        200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
        300, 301, 302, 303, 304, 305, 306, 307, 308,
        400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
        421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
        500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
    ];

    [Fact]
    public void Every_registered_code_has_a_reason_phrase_and_no_other_code_has_one() // RFC 9110 §15
    {
        for (int code = 0; code < 1000; code++)
        {
            bool registered = Array.IndexOf(Registered, code) >= 0;
            Assert.True(registered == StatusCodes.IsRegistered(code), $"IsRegistered({code})");
            Assert.True(registered == (StatusCodes.ReasonPhrase(code).Length > 0), $"ReasonPhrase({code}) = '{StatusCodes.ReasonPhrase(code)}'");
        }
    }

    [Theory]
    [InlineData(200, "OK")]
    [InlineData(404, "Not Found")]
    [InlineData(413, "Content Too Large")]          // RFC 9110 renamed "Payload Too Large"
    [InlineData(422, "Unprocessable Content")]
    [InlineData(505, "HTTP Version Not Supported")]
    public void Uses_the_RFC_9110_phrases(int code, string phrase) => Assert.Equal(phrase, StatusCodes.ReasonPhrase(code)); // RFC 9110 §15

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(299)]
    [InlineData(600)]
    [InlineData(int.MaxValue)]
    public void An_unregistered_code_has_an_empty_phrase(int code) => Assert.Equal("", StatusCodes.ReasonPhrase(code)); // RFC 9112 §4: reason-phrase is optional

    [Fact]
    public void Every_phrase_is_valid_reason_phrase_text() // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
    {
        foreach (int code in Registered)
        {
            foreach (char c in StatusCodes.ReasonPhrase(code)) Assert.InRange(c, ' ', '~');
        }
    }

    [Theory]
    [InlineData(100, true)]
    [InlineData(199, true)]
    [InlineData(204, true)]
    [InlineData(304, true)]
    [InlineData(200, false)]
    [InlineData(205, false)]
    [InlineData(404, false)]
    public void Knows_which_responses_never_carry_content(int code, bool forbids) => // RFC 9110 §6.4.1
        Assert.Equal(forbids, StatusCodes.ForbidsBody(code));
}
