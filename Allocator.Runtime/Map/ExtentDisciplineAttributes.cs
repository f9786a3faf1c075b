using System;
using System.ComponentModel;

namespace Allocator.Map;

/// <summary>
/// Marks a parameter that must be an extent the caller holds: one it allocated, recycled or
/// acquired as a neighbor, never one found by address. The analyzers check every call against it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
[AttributeUsage(AttributeTargets.Parameter, Inherited = false)]
public sealed class AcquiredExtentAttribute : Attribute;

/// <summary>
/// Marks a method that only looks an extent up by address: what it returns is a read-only view
/// that the analyzers refuse where an <see cref="AcquiredExtentAttribute"/> parameter is expected.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class AddressLookupAttribute : Attribute;
