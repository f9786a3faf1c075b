using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Allocator.Tests.Host;

/// <summary>
/// Usage: <c>Allocator.Runtime.Tests.Host &lt;assembly path&gt; &lt;type full name&gt; &lt;method&gt; [args...]</c>.
/// Loads the assembly with its own dependency manifest and calls the static method, which takes
/// nothing or a <c>string[]</c> and returns void (exit 0) or an int (the exit code).
/// </summary>
/// <remarks>
/// Exit codes of the host itself: 64 for bad usage, 70 when the method throws (the exception goes
/// to stderr). A fault the runtime cannot turn into an exception (a guard-page hit) kills the
/// process with SIGABRT instead, which the parent sees as 134.
/// </remarks>
internal static class Program
{
    private const int UsageError = 64, ScenarioThrew = 70;

    private static int Main(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: Allocator.Runtime.Tests.Host <assembly path> <type full name> <method> [args...]");
            return UsageError;
        }

        string path = Path.GetFullPath(args[0]);
        // The test assembly's deps.json lists its dependencies (xunit, the runtime library); resolve them from there.
        var resolver = new AssemblyDependencyResolver(path);
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            resolver.ResolveAssemblyToPath(name) is string p ? context.LoadFromAssemblyPath(p) : null;
        Assembly assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);

        Type? type = assembly.GetType(args[1], throwOnError: false);
        MethodInfo? method = type?.GetMethod(args[2], BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static);
        if (method is null)
        {
            Console.Error.WriteLine($"no static method {args[1]}.{args[2]} in {path}");
            return UsageError;
        }

        string[] rest = args[3..];
        object?[]? parameters = method.GetParameters().Length == 0 ? null : new object?[] { rest };
        try
        {
            object? result = method.Invoke(null, parameters);
            Console.Out.Flush();
            return result is int code ? code : 0;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Console.Error.WriteLine(e.InnerException);
            return ScenarioThrew;
        }
    }
}
