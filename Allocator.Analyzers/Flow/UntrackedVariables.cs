using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Flow;

/// <summary>
/// Variables whose writes the walker cannot place in the flow, so it keeps no value for them.
/// </summary>
internal static class UntrackedVariables
{
    /// <summary>
    /// The variables of <paramref name="root"/> written inside a lambda or local function that
    /// does not own them (the walker cannot know when that runs), whose address is taken, or that
    /// are ref locals.
    /// </summary>
    public static HashSet<ISymbol> Find(IOperation root)
    {
        var result = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var operation in root.DescendantsAndSelf())
        {
            ISymbol? symbol = operation switch
            {
                ILocalReferenceOperation local => local.Local,
                IParameterReferenceOperation parameter => parameter.Parameter,
                _ => null,
            };
            if (symbol is null) continue;
            if (symbol is ILocalSymbol { IsRef: true } || operation.Parent is IAddressOfOperation
                || (IsWrite(operation) && InsideFunction(operation, symbol)))
            {
                result.Add(symbol);
            }
        }

        return result;
    }

    /// <summary>True when <paramref name="reference"/> is written: assigned, stepped, or passed by ref or out.</summary>
    public static bool IsWrite(IOperation reference) => (reference.Parent is IDeclarationExpressionOperation declaration ? declaration : reference).Parent switch
    {
        IAssignmentOperation assignment => assignment.Target == reference,
        IIncrementOrDecrementOperation => true,
        IArgumentOperation argument => argument.Parameter?.RefKind is RefKind.Out or RefKind.Ref,
        _ => false,
    };

    // True when the reference sits in a lambda or local function that does not own the symbol.
    private static bool InsideFunction(IOperation reference, ISymbol symbol)
    {
        for (var parent = reference.Parent; parent is not null; parent = parent.Parent)
        {
            IMethodSymbol? function = parent switch
            {
                IAnonymousFunctionOperation lambda => lambda.Symbol,
                ILocalFunctionOperation local => local.Symbol,
                _ => null,
            };
            if (function is null) continue;
            return !SymbolEqualityComparer.Default.Equals(symbol.ContainingSymbol, function);
        }

        return false;
    }
}
