namespace Allocator.Analyzers.Flow;

/// <summary>A flow state that holds what the variables contain, for <see cref="OperationWalker{TValue, TState}"/>.</summary>
internal interface IVariableState<TValue>
    where TValue : class
{
    /// <summary>The variables' values at this point.</summary>
    Variables<TValue> Variables { get; }
}
