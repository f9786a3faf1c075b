namespace Allocator.Declarations;

/// <summary>Metadata names the generator and analyzers look for.</summary>
internal static class KnownTypeNames
{
    public const string Namespace = "Allocator";
    public const string ArenaAttribute = "Allocator.ArenaAttribute";
    public const string ArenaAttributeName = "ArenaAttribute";
    public const string SizeClassesAttributeName = "SizeClassesAttribute";
    public const string GuardsAttributeName = "GuardsAttribute";
    public const string ExtentHooksAttributeName = "ExtentHooksAttribute";
    public const string HugePagesAttributeName = "HugePagesAttribute";
    public const string ExtentHooksInterfaceName = "IExtentHooks";
    public const string ExtentHooksInterfaceNamespace = "Hooks";
}
