using Parley.Server;

namespace Parley.Tests.Server;

/// <summary>What <see cref="Router.Map"/> refuses, at Map time and with a message naming the mistake.</summary>
public class RouterMapTests
{
    private static readonly RequestHandler Nothing = (request, response) => ValueTask.CompletedTask;

    [Theory]
    [InlineData("GET", "*", "OPTIONS * and CONNECT")]
    [InlineData("CONNECT", "/tunnel", "authority")]
    [InlineData("CONNECT", "example.com", "authority")]
    [InlineData("GET", "users", "start with '/'")]
    [InlineData("GE T", "/", "invalid method")]
    public void Map_rejects_a_target_its_method_cannot_have(string method, string path, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new Router().Map(method, path, Nothing));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void MapAnyMethod_rejects_the_server_wide_target()
    {
        Assert.Throws<ArgumentException>(() => new Router().MapAnyMethod("*", Nothing));
    }
}
