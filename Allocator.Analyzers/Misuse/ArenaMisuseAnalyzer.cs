using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Allocator.Analyzers.Misuse;

/// <summary>
/// Follows blocks and arenas through one method's control flow:
/// ALLOC2003 a block freed to another arena, ALLOC2004 an arena or its memory used after
/// Dispose()/Reset(), ALLOC2005 a block freed twice, ALLOC2006 FreeSized with a size of another
/// class, ALLOC2007 FreeSized without the alignment of an aligned block, ALLOC3001 Free where
/// FreeSized could be used.
/// Arenas are recognized by type: Allocator.Arena and its derived types, and classes with [Arena]
/// (the generated facade, which forwards the same members).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ArenaMisuseAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The property holding the size expression for the FreeSized code fix.</summary>
    public const string SizeProperty = "Size";

    private const string ArenaType = "Allocator.Arena";
    private const string GenericArenaType = "Allocator.Arena`1";
    private const string ArenaAttributeType = "Allocator.ArenaAttribute";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.FreedToOtherArena,
        DiagnosticDescriptors.UseAfterResetOrDispose,
        DiagnosticDescriptors.DoubleFree,
        DiagnosticDescriptors.FreeSizedClassMismatch,
        DiagnosticDescriptors.FreeSizedWithoutAlignment,
        DiagnosticDescriptors.FreeWithKnownSize);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var compilation = start.Compilation;
            if (compilation.GetTypeByMetadataName(ArenaType) is not { } arena) return;
            var symbols = new Symbols(arena, compilation.GetTypeByMetadataName(GenericArenaType), compilation.GetTypeByMetadataName(ArenaAttributeType));
            start.RegisterOperationBlockAction(block => AnalyzeBlock(block, symbols));
        });
    }

    private static void AnalyzeBlock(OperationBlockAnalysisContext context, Symbols symbols)
    {
        foreach (var root in context.OperationBlocks)
        {
            if (root.Kind is not (OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block)) continue;
            if (!CallsArena(root, symbols, out var written)) continue;
            var graph = context.GetControlFlowGraph(root);
            if (root.SemanticModel is not { } model) continue;
            new Walker(FlowWalker.Untracked(root), written, symbols, model, context.ReportDiagnostic).Run(graph, context.CancellationToken);
        }
    }

    // One pass over the body: does it call an arena, and which variables does it write after declaring them?
    private static bool CallsArena(IOperation root, Symbols symbols, out HashSet<ISymbol> written)
    {
        written = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        var calls = false;
        foreach (var operation in root.Descendants())
        {
            switch (operation)
            {
                case IInvocationOperation invocation when symbols.IsArena(invocation.TargetMethod.ContainingType):
                    calls = true;
                    break;
                case ILocalReferenceOperation { IsDeclaration: false } local when FlowWalker.IsWrite(local) || local.Parent is IAddressOfOperation:
                    written.Add(local.Local);
                    break;
                case IParameterReferenceOperation parameter when FlowWalker.IsWrite(parameter) || parameter.Parent is IAddressOfOperation:
                    written.Add(parameter.Parameter);
                    break;
            }
        }

        return calls;
    }


    private sealed class Symbols
    {
        private readonly ConcurrentDictionary<ITypeSymbol, bool> _arenas = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<INamedTypeSymbol, ImmutableArray<Allocator.Sizing.SizeClasses>> _classes = new(SymbolEqualityComparer.Default);

        public Symbols(INamedTypeSymbol arena, INamedTypeSymbol? genericArena, INamedTypeSymbol? attribute)
        {
            Arena = arena;
            GenericArena = genericArena;
            Attribute = attribute;
        }

        public INamedTypeSymbol Arena { get; }

        public INamedTypeSymbol? GenericArena { get; }

        public INamedTypeSymbol? Attribute { get; }

        public bool IsArena(ITypeSymbol? type) => type is not null && _arenas.GetOrAdd(type, Compute);

        public bool IsFacade(ITypeSymbol type) => AttributeLookup.Find(type.GetAttributes(), Attribute) is not null;

        /// <summary>
        /// A key two receivers of different arenas cannot share: each sealed arena type is its own
        /// key, except that a facade and the Arena&lt;Policy&gt; it wraps share the policy type.
        /// </summary>
        public ITypeSymbol? DistinctKey(ITypeSymbol? type)
        {
            if (type is not INamedTypeSymbol { IsSealed: true } named) return null;
            if (IsFacade(named))
            {
                foreach (var member in named.GetTypeMembers("Policy")) return member;
                return named;
            }

            return GenericArena is not null && SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, GenericArena) ? named.TypeArguments[0] : null;
        }

        /// <summary>
        /// The size classes an arena certainly has: those its [Arena] facade declares (also for
        /// Arena&lt;Facade.Policy&gt;), or the defaults of Arena.Create() for each page size it may
        /// meet. Empty when they depend on something the analyzer cannot see.
        /// </summary>
        public ImmutableArray<Allocator.Sizing.SizeClasses> SizeClassesOf(FlowValue arena, ITypeSymbol? receiverType)
        {
            if (arena.IsDefaultRuntimeArena) return DefaultClasses;
            var facade = receiverType is not null && IsFacade(receiverType) ? receiverType
                : DistinctKey(receiverType) is { ContainingType: { } container } && IsFacade(container) ? container
                : null;
            return facade is INamedTypeSymbol named ? _classes.GetOrAdd(named, ReadClasses) : ImmutableArray<Allocator.Sizing.SizeClasses>.Empty;
        }

        private ImmutableArray<Allocator.Sizing.SizeClasses> ReadClasses(INamedTypeSymbol facade)
        {
            if (AttributeLookup.Find(facade.GetAttributes(), Attribute) is not { } data) return ImmutableArray<Allocator.Sizing.SizeClasses>.Empty;
            var read = Allocator.Declarations.ArenaDeclarationReader.Read(facade, data, null, System.Threading.CancellationToken.None);
            if (!read.IsValid) return ImmutableArray<Allocator.Sizing.SizeClasses>.Empty;
            var s = read.Settings;
            return Classes(s.LgQuantum, s.LgPage, s.LgGroup, s.LgTinyMin) is { } classes
                ? ImmutableArray.Create(classes)
                : ImmutableArray<Allocator.Sizing.SizeClasses>.Empty;
        }

        private static Allocator.Sizing.SizeClasses? Classes(int lgQuantum, int lgPage, int lgGroup, int lgTinyMin) =>
            Allocator.Sizing.SizeClasses.TryValidate(lgQuantum, lgPage, lgGroup, lgTinyMin, out _, out _)
                ? new Allocator.Sizing.SizeClasses(lgQuantum, lgPage, lgGroup, lgTinyMin)
                : null;

        // ArenaOptions' defaults, with the page size of the machine the program will run on.
        private static readonly ImmutableArray<Allocator.Sizing.SizeClasses> DefaultClasses = ImmutableArray.Create(
            new Allocator.Sizing.SizeClasses(4, 12),
            new Allocator.Sizing.SizeClasses(4, 14),
            new Allocator.Sizing.SizeClasses(4, 16));

        private bool Compute(ITypeSymbol type)
        {
            for (var current = type; current is not null; current = current.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(current, Arena)) return true;
            }

            return IsFacade(type);
        }
    }

    private sealed class Walker : FlowWalker
    {
        private readonly HashSet<ISymbol> _written;
        private readonly Symbols _symbols;
        private readonly System.Action<Diagnostic> _report;
        private readonly SemanticModel _model;
        private readonly HashSet<(string, Location)> _reported = new();

        public Walker(HashSet<ISymbol> untracked, HashSet<ISymbol> written, Symbols symbols, SemanticModel model, System.Action<Diagnostic> report)
            : base(untracked)
        {
            _model = model;
            _written = written;
            _symbols = symbols;
            _report = report;
        }

        protected override FlowValue? OnObjectCreation(IObjectCreationOperation creation, FlowValue?[] arguments) =>
            _symbols.IsArena(creation.Type) ? Fresh(creation, static () => new FlowValue { IsCreatedArena = true }) : null;

        protected override FlowValue? OnFieldReference(IFieldReferenceOperation field, FlowValue? instance)
        {
            // A readonly field names the same arena on every read (of this instance).
            var symbol = field.Field;
            if (!symbol.IsReadOnly || !_symbols.IsArena(symbol.Type)) return null;
            if (!symbol.IsStatic && field.Instance is not IInstanceReferenceOperation) return null;
            return Definition(symbol, static () => new FlowValue());
        }

        protected override FlowValue? OnPropertyReference(IPropertyReferenceOperation property, FlowValue? instance)
        {
            var symbol = property.Property;
            if (instance is not null && State.Disposed.TryGetValue(instance, out var at) && _symbols.IsArena(symbol.ContainingType))
            {
                ReportArenaUse(property, at);
            }

            // The facade's Core is the arena it forwards to; Shared is one arena per facade type.
            if (symbol.Name == "Core" && instance is not null && _symbols.IsFacade(symbol.ContainingType)) return instance;
            if (symbol.IsStatic && symbol.Name == "Shared" && _symbols.IsArena(symbol.Type)) return Definition(symbol, static () => new FlowValue());
            return null;
        }

        protected override FlowValue? OnInvocation(IInvocationOperation invocation, FlowValue? instance, FlowValue?[] arguments)
        {
            var method = invocation.TargetMethod;
            if (!_symbols.IsArena(method.ContainingType)) return null;
            if (method.IsStatic)
            {
                if (method.Name != "Create" || !_symbols.IsArena(method.ReturnType)) return null;
                var defaults = true;
                foreach (var argument in invocation.Arguments) defaults &= argument.ArgumentKind == ArgumentKind.DefaultValue;
                return Fresh(invocation, () => new FlowValue { IsCreatedArena = true, IsDefaultRuntimeArena = defaults });
            }

            if (instance is not null && method.Name != "Dispose" && State.Disposed.TryGetValue(instance, out var disposedAt))
            {
                ReportArenaUse(invocation, disposedAt);
            }

            var receiverType = invocation.Instance?.Type;
            var receiverText = invocation.Instance?.Syntax.ToString() ?? "this";
            switch (method.Name)
            {
                case "Allocate" or "TryAllocate" or "AllocateZeroed" or "AllocateAligned" when arguments.Length >= 1:
                    return Fresh(invocation, () => new FlowValue
                    {
                        Allocation = new AllocationFacts(instance, receiverType, receiverText, method.Name, invocation.Arguments[0].Value,
                            method.Name == "AllocateAligned" && invocation.Arguments.Length >= 2 ? invocation.Arguments[1].Value : null),
                    });
                case "Reallocate" when arguments.Length == 2:
                    // It may return the same block (same size class), so the old pointer is not
                    // counted as freed; reallocating a block already freed is still reported.
                    Release(invocation, instance, arguments[0], marksFreed: false);
                    return Fresh(invocation, () => new FlowValue
                    {
                        Allocation = new AllocationFacts(instance, receiverType, receiverText, method.Name, invocation.Arguments[1].Value),
                    });
                case "Free" or "FreeSized" when arguments.Length >= 1:
                    Release(invocation, instance, arguments[0], marksFreed: true);
                    return null;
                case "Reset" or "Dispose" when arguments.Length == 0:
                    if (instance is null) return null;
                    foreach (var value in State.Variables.Values)
                    {
                        if (ReferenceEquals(value.Allocation?.Arena, instance) && !State.Invalidated.ContainsKey(value)) State.Invalidated[value] = invocation;
                    }

                    if (method.Name == "Dispose" && !State.Disposed.ContainsKey(instance)) State.Disposed[instance] = invocation;
                    return null;
                default:
                    return null;
            }
        }

        protected override void OnRead(IOperation reference, FlowValue value)
        {
            if (!Reporting || !State.Invalidated.TryGetValue(value, out var at)) return;

            // Comparing the pointer, or copying it, does not touch the memory.
            var use = reference;
            while (use.Parent is IConversionOperation conversion) use = conversion;
            if (use.Parent is IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals }) return;
            if (use.Parent is ISimpleAssignmentOperation assignment && assignment.Value == use) return;
            var allocation = value.Allocation!;

            // Passing it back to its disposed arena: the call itself is reported, once.
            if (allocation.Arena is { } arena && State.Disposed.ContainsKey(arena)
                && reference.Parent is IArgumentOperation { Parent: IInvocationOperation { Instance: { } receiver } }
                && receiver.Syntax.ToString() == allocation.ArenaText)
            {
                return;
            }

            Report(
                DiagnosticDescriptors.UseAfterResetOrDispose,
                reference.Syntax.GetLocation(),
                null,
                $"'{reference.Syntax}', memory from '{allocation.ArenaText}',",
                Call(at),
                Line(at),
                "its memory is gone; allocate again after the call, or finish with the block before it");
        }

        private void ReportArenaUse(IOperation use, IOperation disposedAt) => Report(
            DiagnosticDescriptors.UseAfterResetOrDispose,
            use.Syntax.GetLocation(),
            null,
            "The arena",
            Call(disposedAt),
            Line(disposedAt),
            "create a new arena, or move the call before Dispose()");

        private void Release(IInvocationOperation call, FlowValue? arena, FlowValue? pointer, bool marksFreed)
        {
            if (pointer is null || pointer.IsDerived) return;
            var pointerText = call.Arguments[0].Value.Syntax.ToString();
            if (Reporting)
            {
                if (State.Freed.TryGetValue(pointer, out var first))
                {
                    Report(DiagnosticDescriptors.DoubleFree, call.Syntax.GetLocation(), null, pointerText, Line(first));
                }
                else if (State.FreedLastIteration.TryGetValue(pointer, out var carried))
                {
                    Report(DiagnosticDescriptors.DoubleFree, call.Syntax.GetLocation(), null, pointerText, Line(carried.At) + " by the previous iteration of the loop,");
                }
                else if (pointer.Allocation is { } allocation)
                {
                    if (Distinct(allocation.Arena, allocation.ArenaType, arena, call.Instance?.Type))
                    {
                        Report(
                            DiagnosticDescriptors.FreedToOtherArena,
                            call.Syntax.GetLocation(),
                            null,
                            pointerText,
                            allocation.ArenaText,
                            call.Instance?.Syntax.ToString() ?? "this",
                            call.TargetMethod.Name);
                    }
                    else if (call.TargetMethod.Name == "FreeSized" && call.Arguments.Length == 2 && allocation.Alignment is { } alignment)
                    {
                        // The block's class came from size and alignment together; the size alone names another.
                        Report(
                            DiagnosticDescriptors.FreeSizedWithoutAlignment,
                            call.Syntax.GetLocation(),
                            null,
                            pointerText,
                            allocation.Size?.Syntax.ToString() ?? "size",
                            alignment.Syntax.ToString());
                    }
                    else if (call.TargetMethod.Name == "FreeSized" && arena is not null && ReferenceEquals(arena, allocation.Arena))
                    {
                        CheckSizeClass(call, arena, pointerText, allocation);
                    }
                    else if (call.TargetMethod.Name == "Free" && arena is not null && ReferenceEquals(arena, allocation.Arena)
                        && allocation.Method != "AllocateAligned" && allocation.Size is { } size && IsStable(size, call))
                    {
                        var sizeText = size.Syntax.ToString();
                        Report(
                            DiagnosticDescriptors.FreeWithKnownSize,
                            call.Syntax.GetLocation(),
                            ImmutableDictionary<string, string?>.Empty.Add(SizeProperty, sizeText),
                            pointerText,
                            sizeText);
                    }
                }
            }

            if (marksFreed && !State.Freed.ContainsKey(pointer)) State.Freed[pointer] = call;
        }

        // ALLOC2006: both sizes constant, the arena's classes known, and the classes differ.
        private void CheckSizeClass(IInvocationOperation call, FlowValue arena, string pointerText, AllocationFacts allocation)
        {
            if (allocation.Method == "AllocateAligned" || call.Arguments.Length != 2
                || AsSize(allocation.Size) is not { } allocated || AsSize(call.Arguments[1].Value) is not { } freed || allocated == freed)
            {
                return;
            }

            var configurations = _symbols.SizeClassesOf(arena, call.Instance?.Type);
            if (configurations.IsEmpty) return;
            ulong allocatedClass = 0, freedClass = 0;
            foreach (var classes in configurations)
            {
                if (allocated > classes.LargeMaxClass || freed > classes.LargeMaxClass) return;
                allocatedClass = classes.RoundUp(allocated);
                freedClass = classes.RoundUp(freed);
                if (allocatedClass == freedClass) return;
            }

            Report(
                DiagnosticDescriptors.FreeSizedClassMismatch,
                call.Arguments[1].Syntax.GetLocation(),
                null,
                pointerText,
                allocated,
                allocatedClass,
                freed,
                freedClass);
        }

        private static ulong? AsSize(IOperation? size)
        {
            if (size?.ConstantValue is not { HasValue: true, Value: { } value }) return null;
            try
            {
                var number = System.Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture);
                return number > 0 && number <= ulong.MaxValue ? (ulong)number : null;
            }
            catch (System.Exception e) when (e is System.InvalidCastException or System.FormatException or System.OverflowException)
            {
                return null;
            }
        }

        private bool Distinct(FlowValue? a, ITypeSymbol? aType, FlowValue? b, ITypeSymbol? bType)
        {
            if (a is not null && ReferenceEquals(a, b)) return false;
            if (a is { IsCreatedArena: true } && b is { IsCreatedArena: true }) return true;
            var keyA = _symbols.DistinctKey(aType);
            var keyB = _symbols.DistinctKey(bType);
            return keyA is not null && keyB is not null && !SymbolEqualityComparer.Default.Equals(keyA, keyB);
        }

        // The size expression means the same at the free as at the allocation, and can be written there.
        private bool IsStable(IOperation size, IOperation at)
        {
            switch (size)
            {
                case ISizeOfOperation:
                case ILiteralOperation:
                    return true;
                case { ConstantValue.HasValue: true } when size is not IFieldReferenceOperation and not ILocalReferenceOperation:
                    return true;
                case IConversionOperation conversion:
                    return IsStable(conversion.Operand, at);
                case IParenthesizedOperation parenthesized:
                    return IsStable(parenthesized.Operand, at);
                case IBinaryOperation binary:
                    return IsStable(binary.LeftOperand, at) && IsStable(binary.RightOperand, at);
                case IParameterReferenceOperation parameter:
                    return !_written.Contains(parameter.Parameter) && InScope(parameter.Parameter, at);
                case ILocalReferenceOperation local:
                    return !_written.Contains(local.Local) && InScope(local.Local, at);
                case IFieldReferenceOperation field:
                    // Written unqualified, the name must still mean the field where it is pasted.
                    return (field.Field.IsReadOnly || field.Field.IsConst)
                        && (field.Instance is null or IInstanceReferenceOperation || IsStable(field.Instance, at))
                        && (field.Syntax is not Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax || InScope(field.Field, at));
                case IPropertyReferenceOperation { Property.Name: "Length", Instance: { } instance }:
                    return instance.Type is IArrayTypeSymbol || instance.Type?.SpecialType == SpecialType.System_String
                        || instance.Type?.Name is "Span" or "ReadOnlySpan" ? IsStable(instance, at) : false;
                default:
                    return false;
            }
        }

        private bool InScope(ISymbol symbol, IOperation at)
        {
            foreach (var visible in _model.LookupSymbols(at.Syntax.SpanStart, name: symbol.Name))
            {
                if (SymbolEqualityComparer.Default.Equals(visible, symbol)) return true;
            }

            return false;
        }

        private void Report(DiagnosticDescriptor descriptor, Location location, ImmutableDictionary<string, string?>? properties, params object[] arguments)
        {
            if (!Reporting || !_reported.Add((descriptor.Id, location))) return;
            _report(Diagnostic.Create(descriptor, location, properties, arguments));
        }

        private static string Call(IOperation call) => call.Syntax.ToString();

        private static int Line(IOperation operation) => operation.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
    }
}
