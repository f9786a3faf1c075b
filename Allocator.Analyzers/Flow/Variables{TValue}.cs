using System.Collections;
using System.Collections.Generic;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace Allocator.Analyzers.Flow;

/// <summary>
/// Locals, parameters and flow captures (keyed by symbol or <see cref="CaptureId"/>) to the value
/// they hold. Values compare by reference: two variables holding the same object are aliases.
/// </summary>
internal sealed class Variables<TValue> : IEnumerable<KeyValuePair<object, TValue>>
    where TValue : class
{
    private readonly Dictionary<object, TValue> _values = new();

    /// <summary>The number of variables with a known value.</summary>
    public int Count => _values.Count;

    /// <summary>The values held, one per variable (aliases appear once per variable).</summary>
    public IEnumerable<TValue> Values => _values.Values;

    public bool TryGetValue(object variable, out TValue value) => _values.TryGetValue(variable, out value!);

    public void Set(object variable, TValue value) => _values[variable] = value;

    public void Remove(object variable) => _values.Remove(variable);

    public Variables<TValue> Clone()
    {
        var copy = new Variables<TValue>();
        foreach (var pair in _values) copy._values[pair.Key] = pair.Value;
        return copy;
    }

    /// <summary>True when both map the same variables to the same objects.</summary>
    public bool SameAs(Variables<TValue> other)
    {
        if (_values.Count != other._values.Count) return false;
        foreach (var pair in _values)
        {
            if (!other._values.TryGetValue(pair.Key, out var value) || !ReferenceEquals(value, pair.Value)) return false;
        }

        return true;
    }

    /// <summary>
    /// Where two paths meet: a variable keeps its value when both paths agree on it. Where they
    /// hold different values, <paramref name="merge"/> says what the variable holds after the
    /// join, or null when nothing is known of it; a variable known on one path only is unknown.
    /// </summary>
    /// <param name="merge">Called with the block, the variable and the two values; it must
    /// return the same object for the same facts on every pass, or the walk never settles.</param>
    public static Variables<TValue> Join(BasicBlock block, Variables<TValue> a, Variables<TValue> b, System.Func<BasicBlock, object, TValue, TValue, TValue?>? merge)
    {
        var result = new Variables<TValue>();
        foreach (var pair in a._values)
        {
            if (!b._values.TryGetValue(pair.Key, out var other)) continue;
            if (ReferenceEquals(pair.Value, other)) result._values[pair.Key] = other;
            else if (merge?.Invoke(block, pair.Key, pair.Value, other) is { } merged) result._values[pair.Key] = merged;
        }

        return result;
    }

    public IEnumerator<KeyValuePair<object, TValue>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
