using System;

namespace Allocator;

/// <summary>
/// Backs an <see cref="ArenaAttribute"/> declaration with custom extent hooks (huge pages, files,
/// shared memory) instead of the default OS hooks.
/// </summary>
/// <remarks>
/// The type must implement <c>Allocator.Hooks.IExtentHooks</c> and have a public parameterless
/// constructor; the generated policy creates one instance per arena.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
#if ALLOCATOR_EMBEDDED_ATTRIBUTES
internal
#else
public
#endif
sealed class ExtentHooksAttribute : Attribute
{
    /// <summary>Declares the hooks type.</summary>
    /// <param name="hooksType">A type implementing <c>Allocator.Hooks.IExtentHooks</c> with a public parameterless constructor.</param>
    public ExtentHooksAttribute(Type hooksType)
    {
        HooksType = hooksType;
    }

    /// <summary>The hooks type the generated policy instantiates.</summary>
    public Type HooksType { get; }
}
